"""Offline fall-detector tooling: replay recordings, fit thresholds and the learned stage, report.

Run from a checkout (`python -m falls_eval DIR`, `python -m falls_eval.learn DIR`); never part of the
wheel a gateway installs. The live detector it judges is gateway/falls/.
"""
