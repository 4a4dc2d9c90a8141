"""The lines a run prints when it ends, and its exit status.

Exit status, for every command: 0 when nothing was rejected; 1 when some records were rejected (their
reasons are counted and the first few printed; all are in rejects.jsonl); 2 when nothing could run (a usage
error, a missing model, an unreadable or damaged folder); 130 when interrupted.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from typing import TextIO

from rdpt_fast.engine.result import RunResult

#: Rejects printed one by one before the summary (all are in rejects.jsonl).
SHOWN_REJECTS = 5


def exit_status(result: RunResult) -> int:
    """0 when nothing was rejected, else 1."""
    return 1 if result.rejected else 0


def print_rejects(result: RunResult, command: str, stream: TextIO | None = None) -> None:
    """The first rejects of the folder, one line each, the count per reason, and where the others are."""
    out = stream or sys.stderr
    path = result.output / "rejects.jsonl"
    if not result.rejected or not path.exists():
        return
    reasons: Counter[str] = Counter()
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f):
            r = json.loads(line)
            reasons[r["stage"] + (f" {r['field']}" if r["field"] else "")] += 1
            if number < SHOWN_REJECTS:
                where = ", ".join(
                    [r["location"]]
                    + ([f"id={r['id']!r}"] if r["id"] is not None else [])
                    + ([f"field {r['field']!r}"] if r["field"] else [])
                )
                print(f"rdpt-fast {command}: rejected ({r['stage']}) {where}: {r['error']}", file=out)
    counts = ", ".join(f"{reason}: {n}" for reason, n in reasons.most_common())
    print(
        f"rdpt-fast {command}: {result.rejected} rejected by stage and field ({counts}); all in {path}",
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
    print(f"rdpt-fast score: {result.sentences} sentences in {result.output / 'sentences'}", file=out)


def beta_note(result: RunResult) -> str:
    """How beta was chosen, for the summary line."""
    if result.adaptive is None:
        return ""
    if result.adaptive.degenerate:
        return " (adaptive rule fell back to the default: |d_TS| has no split to choose)"
    return " (adaptive)"


def print_summary(result: RunResult, command: str, stream: TextIO | None = None) -> None:
    """trace / select / classify: thresholds, totals and label shares."""
    out = stream or sys.stderr
    shares = ", ".join(f"{k} {100 * v:.1f}%" for k, v in result.label_shares.items())
    alpha = f"alpha {result.alpha:g}, " if result.kind == "trace" and result.alpha is not None else ""
    print(
        f"rdpt-fast {command}: {result.records} records, {result.sentences} sentences, "
        f"{result.rejected} rejected; {alpha}beta {result.beta:g}{beta_note(result)}",
        file=out,
    )
    print(f"rdpt-fast {command}: labels {shares} (unscored {result.label_counts['unscored']})", file=out)
    print(f"rdpt-fast {command}: output in {result.output}", file=out)
