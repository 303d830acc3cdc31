"""Anxin central server: ingest, alarm desk, notifications, web UI and API."""
