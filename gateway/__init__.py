"""Anxin home gateway: reads devices, runs local rules, forwards durably to the server."""
