"""`python -m bench.report`: the results under bench/results/ as Markdown, to paste into docs/performance.md."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bench.core import RESULTS, fmt


def _cell(value: Any) -> str:
    return fmt(value).replace("|", "\\|")


def markdown(doc: dict[str, Any]) -> str:
    """One scenario's result: its table, targets and the machine's state, in Markdown."""
    m = doc["machine"]
    rows = doc["rows"]
    cols = list(rows[0]) if rows else []
    out = [
        f"`{doc['scenario']}` — {doc['started_at']}, {m['cores']} cores, load {m['load_1m']} at start, "
        f"{doc['duration_s']:.0f} s{' (quick)' if doc['quick'] else ''}",
        "",
        "| " + " | ".join(cols) + " |",
        "|" + "---|" * len(cols),
    ]
    out += ["| " + " | ".join(_cell(r.get(c, "")) for c in cols) + " |" for r in rows]
    if doc["targets"]:
        out.append("")
        out += [
            f"- {'**met**' if t['met'] else '**missed**'}: {t['name']} = {_cell(t['value'])} {t['unit']} "
            f"(target {'≥' if t['higher_is_better'] else '≤'} {_cell(t['limit'])})"
            for t in doc["targets"]
        ]
    out += [f"- {n}" for n in doc["notes"]]
    return "\n".join(out)


def summary(docs: list[dict[str, Any]]) -> str:
    """Every target of every scenario in one Markdown table."""
    out = ["| scenario | target | measured | limit | met | run |", "|---|---|---|---|---|---|"]
    for doc in docs:
        when = f"{doc['started_at'][:16].replace('T', ' ')}, load {doc['machine']['load_1m']}"
        for t in doc["targets"]:
            out.append(
                f"| {doc['scenario']} | {t['name']} | {fmt(t['value'])} {t['unit']} | "
                f"{'≥' if t['higher_is_better'] else '≤'} {fmt(t['limit'])} | "
                f"{'yes' if t['met'] else '**no**'} | {when} |"
            )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """Print every result found, in the order given or alphabetically."""
    p = argparse.ArgumentParser(prog="python -m bench.report")
    p.add_argument("scenarios", nargs="*")
    p.add_argument("--results", type=Path, default=RESULTS)
    p.add_argument("--summary", action="store_true", help="only the table of targets")
    args = p.parse_args(argv)
    names = args.scenarios or sorted(f.stem for f in args.results.glob("*.json"))
    docs = []
    for name in names:
        path = args.results / f"{name}.json"
        if not path.exists():
            print(f"no result for {name} in {args.results}", file=sys.stderr)
            continue
        docs.append(json.loads(path.read_text(encoding="utf-8")))
    if args.summary:
        print(summary(docs))
        return 0
    for doc in docs:
        print(markdown(doc) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
