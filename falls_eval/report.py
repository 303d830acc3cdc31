"""`python -m falls_eval DIR`: replay a MobiFall-layout directory through the live detector and print the score."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TextIO

from falls_eval.evaluate import Trial, judge, summarize
from falls_eval.exposure import WAKING_HOURS, alarms_per_day, prompt_can_cancel, weighted_false_alarms_per_hour
from falls_eval.fit import leave_one_subject_out
from gateway.falls.detector import FallParams
from gateway.falls.errors import FitError, RecordingError
from gateway.falls.recordings import Recording, find_recordings, load_recording


def trial_line(t: Trial) -> str:
    """One human-readable line per trial."""
    kind = "fall" if t.is_fall else "adl "
    if t.is_fall and t.alarms:
        a = t.alarms[0]
        verdict = f"detected     {t.latency_s:4.1f} s after impact (peak {a.peak_g:.2f} g, turned {a.angle_deg:3.0f}°)"
    elif t.is_fall:
        verdict = "MISSED"
    elif t.alarms:
        a = t.alarms[0]
        verdict = (
            f"FALSE ALARM x{len(t.alarms)} at {a.impact_t:.1f} s (peak {a.peak_g:.2f} g, turned {a.angle_deg:3.0f}°)"
        )
    else:
        verdict = "quiet"
    return f"{t.name:<16} {kind} {t.duration_s:6.1f} s  {verdict}"


def load_all(root: Path, err: TextIO) -> list[Recording]:
    """Every readable recording under root; unreadable files are reported and skipped."""
    out: list[Recording] = []
    for path in find_recordings(root):
        try:
            out.append(load_recording(path))
        except RecordingError as exc:
            print(f"skipped: {exc}", file=err)
    return out


def run(
    root: Path, as_json: bool = False, loso: bool = False, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Evaluate and print; returns the process exit code."""
    out, err = out or sys.stdout, err or sys.stderr
    try:
        recordings = load_all(root, err)
    except RecordingError as exc:
        print(f"python -m falls_eval: {exc}", file=err)
        return 2
    if not recordings:
        print(f"python -m falls_eval: no readable recordings under {root}", file=err)
        return 2
    params = FallParams()
    if loso:

        def fold(subject: int, p: FallParams) -> None:
            m = p.impact_model
            model = ", ".join(f"{w:+.2f}" for w in m.weight) + f", bias {m.bias:+.2f}" if m else "none"
            print(
                f"fold without sub{subject}: still <= {p.still_g} g, turned >= {p.angle_deg:.0f}°, "
                f"impact model weights {model}",
                file=out,
            )

        try:
            trials = leave_one_subject_out(recordings, params, fold)
        except FitError as exc:
            print(f"python -m falls_eval: {exc}", file=err)
            return 2
    else:
        trials = [judge(r, params) for r in recordings]
    for t in trials:
        print(trial_line(t), file=out)
    by_code: dict[str, list[Trial]] = {}
    for t in trials:
        by_code.setdefault(t.code, []).append(t)
    order = sorted(by_code.items(), key=lambda kv: (not kv[1][0].is_fall, kv[0]))  # falls first
    print(
        "right per activity: " + ", ".join(f"{code} {sum(t.correct for t in ts)}/{len(ts)}" for code, ts in order),
        file=out,
    )
    s = summarize(trials)
    how = "leave-one-subject-out fitted thresholds" if loso else "shipped thresholds"
    latency = f"{s.median_latency_s:.1f} s" if s.median_latency_s is not None else "n/a"
    print(f"{len(trials)} trials, {how}", file=out)
    print(f"falls: {s.detected}/{s.falls} detected, sensitivity {s.sensitivity:.1%}", file=out)
    print(
        f"daily activity: {s.adl_clean}/{s.adl_trials} trials without alarm, specificity {s.specificity:.1%}, "
        f"{s.false_alarms} false alarms in {s.adl_hours:.2f} h = {s.false_alarms_per_hour:.2f} per hour",
        file=out,
    )
    print(f"accuracy (sensitivity + specificity) / 2: {s.accuracy:.1%}; median detection latency {latency}", file=out)
    weighted = weighted_false_alarms_per_hour(trials)
    per_day = ", ".join(f"{code} {n:.2f}" for code, n in sorted(alarms_per_day(trials).items()) if n)
    print(
        f"weighted by an older person's day (docs/falls.md): {weighted:.3f} false alarms per waking hour "
        f"({weighted * WAKING_HOURS:.2f} a day{': ' + per_day if per_day else ''})",
        file=out,
    )
    at_home, alarms = prompt_can_cancel(trials)
    print(
        f"30 s cancel prompt (spoken at home): can catch {at_home} of {alarms} false alarms; the rest happen "
        f"out of its earshot (at the car)",
        file=out,
    )
    if as_json:
        print(json.dumps({**s.as_dict(), "weighted_false_alarms_per_hour": round(weighted, 4)}), file=out)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m falls_eval` (run from a checkout: the offline tooling is not in the wheel)."""
    parser = argparse.ArgumentParser(
        prog="python -m falls_eval", description="replay MobiFall-layout recordings through the fall detector"
    )
    parser.add_argument("dir", type=Path, help="directory with sub<S>/<FALLS|ADL>/<CODE>/*_acc_*.txt")
    parser.add_argument("--json", action="store_true", help="end with one JSON line of the totals")
    parser.add_argument(
        "--loso",
        action="store_true",
        help="fit thresholds leave-one-subject-out and judge each subject with thresholds fitted without them",
    )
    args = parser.parse_args(argv)
    return run(args.dir, as_json=args.json, loso=args.loso)
