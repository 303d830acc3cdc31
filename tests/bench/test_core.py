"""The harness's arithmetic and reports, without any broker: percentiles, targets, tables, Markdown."""

from __future__ import annotations

import json

from bench.core import Result, Target, percentiles, render, save, table
from bench.report import markdown, summary


def test_percentiles_are_nearest_rank():
    p = percentiles([float(v) for v in range(1, 101)])
    assert (p["n"], p["p50"], p["p90"], p["p99"], p["max"], p["mean"]) == (100, 50.0, 90.0, 99.0, 100.0, 50.5)
    assert percentiles([7.0])["p99"] == 7.0
    assert percentiles([])["n"] == 0


def test_targets_know_which_side_is_good():
    assert Target("p99", 90, 100, "ms").met and not Target("p99", 120, 100, "ms").met
    assert Target("rate", 25_000, 20_000, "/s", higher_is_better=True).met
    assert not Target("rate", 1_500, 20_000, "/s", higher_is_better=True).met


def test_result_round_trips_to_json_and_markdown(tmp_path):
    r = Result(
        "demo",
        quick=True,
        metrics={"x": 1.5},
        rows=[{"phase": "idle", "p99 ms": 12.345}],
        targets=[Target("p99", 12.345, 100, "ms")],
        notes=["a note"],
        machine={"cores": 2, "load_1m": 0.5, "cpu": "test"},
    )
    doc = json.loads(save(r, tmp_path).read_text(encoding="utf-8"))
    assert doc["targets"][0]["met"] is True and doc["metrics"] == {"x": 1.5}
    md = markdown(doc)
    assert "| phase | p99 ms |" in md and "| idle | 12.35 |" in md and "**met**" in md and "a note" in md
    assert "| demo | p99 | 12.35 ms | ≤ 100 | yes |" in summary([doc])
    assert "MET  p99" in render(r)


def test_table_aligns_columns():
    lines = table([{"a": "x", "bb": 1}, {"a": "long", "bb": 1234567}]).splitlines()
    assert len({len(line) for line in lines}) == 1 and "1,234,567" in lines[-1]
