"""The lines a run prints when it ends."""

from __future__ import annotations

import json
import sys
from typing import TextIO

from rdpt_fast.engine.result import RunResult

#: Rejects printed one by one before the summary (all are in rejects.jsonl).
SHOWN_REJECTS = 5


def print_rejects(result: RunResult, command: str, stream: TextIO | None = None) -> None:
    """The first rejects of the folder, one line each, and where the others are."""
    out = stream or sys.stderr
    path = result.output / "rejects.jsonl"
    if not result.rejected or not path.exists():
        return
    with open(path, encoding="utf-8") as f:
        for _, line in zip(range(SHOWN_REJECTS), f):
            r = json.loads(line)
            where = ", ".join(
                [r["location"]]
                + ([f"id={r['id']!r}"] if r["id"] is not None else [])
                + ([f"field {r['field']!r}"] if r["field"] else [])
            )
            print(
                f"rdpt-fast {command}: rejected ({r['stage']}) {where}: {r['error']}",
                file=out,
            )
    if result.rejected > SHOWN_REJECTS:
        print(
            f"rdpt-fast {command}: ... {result.rejected - SHOWN_REJECTS} more in {path}",
            file=out,
        )


def print_score_summary(result: RunResult, stream: TextIO | None = None) -> None:
    """score: records scored now, rejected and already done; tokens forwarded for tokens scored."""
    out = stream or sys.stderr
    p = result.passes.get("model", {})
    scored = p.get("records", 0) - p.get("errors", 0)
    print(
        f"rdpt-fast score: {scored} scored, {result.rejected} rejected, "
        f"{result.records - scored} already done; {p.get('forwarded_tokens', 0)} tokens forwarded for "
        f"{p.get('scored_tokens', 0)} scored",
        file=out,
    )
    print(
        f"rdpt-fast score: {result.sentences} sentences in {result.output / 'sentences'}",
        file=out,
    )


def print_summary(result: RunResult, command: str, stream: TextIO | None = None) -> None:
    """trace / select / classify: thresholds, totals and label shares."""
    out = stream or sys.stderr
    shares = ", ".join(f"{k} {100 * v:.1f}%" for k, v in result.label_shares.items())
    alpha = f"alpha {result.alpha:g}, " if result.kind == "trace" and result.alpha is not None else ""
    print(
        f"rdpt-fast {command}: {result.records} records, {result.sentences} sentences, "
        f"{result.rejected} rejected; {alpha}beta {result.beta:g}"
        f"{' (adaptive)' if result.adaptive else ''}",
        file=out,
    )
    print(
        f"rdpt-fast {command}: labels {shares} (unscored {result.label_counts['unscored']})",
        file=out,
    )
    print(f"rdpt-fast {command}: output in {result.output}", file=out)
