"""Benchmarks: `python -m bench <scenario> [--quick] [--json]` — each prints a table and writes JSON."""
