"""Benchmarks: `python -m bench <scenario> [--quick] [--json]` for the system scenarios (each prints a
table and writes bench/results/<scenario>.json), and `python -m bench.<name>` for the component
benchmarks; numbers go into docs/performance.md."""
