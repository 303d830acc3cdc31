"""Simulated devices, homes and whole installations for demos, tests and benchmarks."""
