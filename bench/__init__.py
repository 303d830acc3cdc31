"""Benchmarks: `python -m bench.<name>`; numbers go into docs/performance.md."""
