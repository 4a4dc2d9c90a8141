"""`RunResult`: what a run (or a relabelling) produced, over the whole folder."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rdpt_fast.rdpt.adaptive import AdaptiveBeta


@dataclass
class RunResult:
    """The folder, the thresholds used (None for a score run) and the totals over the whole folder.
    passes: per role, what its pass did in this invocation (`PassSummary.timings`)."""

    output: Path
    kind: str
    alpha: float | None
    beta: float | None
    adaptive: AdaptiveBeta | None
    records: int
    sentences: int
    rejected: int
    label_counts: dict[str, int]
    seconds: float
    passes: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def label_shares(self) -> dict[str, float]:
        """Share of each label among labelled sentences (markers and unscored excluded)."""
        labelled = sum(v for k, v in self.label_counts.items() if k != "unscored")
        return {k: v / labelled if labelled else 0.0 for k, v in self.label_counts.items() if k != "unscored"}
