"""Transports only move bytes: they open ports, read, and hand the bytes on without looking at them."""
