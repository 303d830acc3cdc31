"""`python -m falls_eval` on a small MobiFall-layout directory written from synthetic traces."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from falls_eval.report import main
from firmware_sim import traces
from gateway.falls.recordings import load_recording
from tests.unit.falls.mobifall import write_trial


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    root = tmp_path / "mobifall"
    for subject in (1, 2):
        for trial in (1, 2):
            seed = subject * 10 + trial
            write_trial(root, subject, "FALLS", "FOL", trial, traces.fall(seed=seed), seed)
            write_trial(root, subject, "FALLS", "SDL", trial, traces.fall(seed=seed + 5, impact_g=3.0), seed)
            write_trial(root, subject, "ADL", "SCH", trial, traces.sit_hard(seed=seed), seed)
            write_trial(root, subject, "ADL", "JUM", trial, traces.jump(seed=seed), seed)
            write_trial(root, subject, "ADL", "STN", trial, traces.stairs(seed=seed), seed)
        write_trial(root, subject, "ADL", "WAL", 1, traces.walk(seed=subject, seconds=120), subject)
    return root


def test_written_files_read_back_as_the_trace(dataset: Path):
    rec = load_recording(dataset / "sub1" / "FALLS" / "FOL" / "FOL_acc_1_1.txt")
    assert rec.is_fall and rec.subject == 1 and rec.code == "FOL" and 14 < rec.duration_s < 16
    assert np.allclose(np.linalg.norm(rec.xyz[:50], axis=1), 1.0, atol=0.05)


def test_prints_a_line_per_trial_and_the_totals_as_json(dataset: Path, capsys):
    assert main([str(dataset), "--json"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    trials = [line for line in lines if line.startswith("sub")]
    assert len(trials) == 2 * (2 * 5 + 1)
    assert all("detected" in line for line in trials if "/FOL/" in line or "/SDL/" in line)
    assert all("quiet" in line for line in trials if "/SCH/" in line or "/JUM/" in line or "/WAL/" in line)
    totals = json.loads(lines[-1])
    assert {"sensitivity", "specificity", "accuracy", "false_alarms_per_hour", "falls", "adl_trials"} <= set(totals)
    assert totals["falls"] == 8 and totals["adl_trials"] == 14
    assert totals["sensitivity"] == 1.0 and totals["specificity"] == 1.0 and totals["false_alarms_per_hour"] == 0
    assert 0 < totals["median_latency_s"] <= 4.0
    assert totals["weighted_false_alarms_per_hour"] == 0
    assert any(line.startswith("weighted by an older person's day") for line in lines)


def test_leave_one_subject_out_judges_every_trial_once(dataset: Path, capsys):
    assert main([str(dataset), "--loso", "--json"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert [line.split(":")[0] for line in out if line.startswith("fold")] == ["fold without sub1", "fold without sub2"]
    assert json.loads(out[-1])["falls"] == 8 and json.loads(out[-1])["adl_trials"] == 14


def test_unreadable_files_are_reported_and_skipped(dataset: Path, capsys):
    bad = dataset / "sub2" / "ADL" / "STD" / "STD_acc_2_1.txt"
    bad.parent.mkdir(parents=True)
    bad.write_text("#header\n@DATA\n1, 2, three, 4\n")
    assert main([str(dataset), "--json"]) == 0
    captured = capsys.readouterr()
    assert "skipped" in captured.err and "STD_acc_2_1.txt" in captured.err
    assert json.loads(captured.out.strip().splitlines()[-1])["adl_trials"] == 14


def test_a_directory_without_recordings_is_a_clear_error(tmp_path: Path, capsys):
    assert main([str(tmp_path)]) == 2
    assert "no MobiFall accelerometer files" in capsys.readouterr().err
    assert main([str(tmp_path / "missing")]) == 2


def test_a_truncated_last_line_costs_a_sample_not_the_trial(dataset: Path):
    path = dataset / "sub1" / "FALLS" / "FOL" / "FOL_acc_1_1.txt"
    whole = load_recording(path)
    path.write_text(path.read_text() + "1000012345678901, 1.5, -9.")
    assert len(load_recording(path).t) == len(whole.t)
