"""The kinds of run: which roles score, which labels the join gives (docs/outputs.md).

`score` is a one-role run without labels; `trace` and `select` label each sentence from the roles'
probabilities (`rdpt_fast.rdpt.labels`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from rdpt_fast.rdpt.labels import SELECT_LABELS, TRACE_LABELS, classify, classify_selection


@dataclass(frozen=True)
class Scheme:
    """Roles and labels of a kind of run ("score", "trace" or "select")."""

    kind: str
    roles: tuple[str, ...]
    labels: tuple[str, ...]
    deltas: tuple[str, ...]

    @property
    def labelled(self) -> bool:
        """The join labels every sentence (trace, select)."""
        return bool(self.labels)

    def label(self, probs: Mapping[str, np.ndarray], alpha: float, beta: float) -> np.ndarray:
        """Label codes (into `labels`) of sentences with per-role probabilities `probs` (NaN: unscored)."""
        if self.kind == "trace":
            return classify(probs["teacher"], probs["student"], probs["distilled"], alpha=alpha, beta=beta)
        if self.kind == "select":
            return classify_selection(probs["teacher"], probs["student"], beta=beta)
        raise ValueError(f"a {self.kind} run has no labels")

    @property
    def unscored(self) -> int:
        return self.labels.index("unscored")


SCORE = Scheme("score", ("model",), (), ())
TRACE = Scheme("trace", ("teacher", "student", "distilled"), TRACE_LABELS, ("d_sd", "d_td", "d_ts"))
SELECT = Scheme("select", ("teacher", "student"), SELECT_LABELS, ("d_ts",))
SCHEMES = {s.kind: s for s in (SCORE, TRACE, SELECT)}
#: d_XY = p_X - p_Y
DELTA_TERMS = {
    "d_sd": ("student", "distilled"),
    "d_td": ("teacher", "distilled"),
    "d_ts": ("teacher", "student"),
}


@dataclass(frozen=True)
class RecordScores:
    """One record ready to join: its input fields, the run's segments row and each role's scores row
    (`segments_pass.SEGMENTS_SCHEMA`, `role_pass.SCORES_SCHEMA`; every role scored it without error)."""

    fields: dict
    segments: dict
    scores: dict[str, dict]
