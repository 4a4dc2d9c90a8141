"""Result types of the scorer: one `ScoredRecord` per input record, and run statistics."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rdpt_fast.segments import Segments


@dataclass
class ScoredRecord:
    """Scores of one record under one model.

    segments: sentence spans of the response (code points into `response`), or None when the record failed
        before segmentation. sum_logprob: [S] float64, nats, sum over the sentence's tokens of
        log p(token | everything before it). num_tokens: [S] int64, tokens assigned to the sentence.
    num_prompt_tokens / num_response_tokens: tokens of the rendered prompt (incl. template and special
        tokens before the first response token) and of the rest of the scored text.
    prompt_shared: the prompt's KV cache was computed once for this and other records.
    source: "model" (forward pass), "precomputed" (the record's token_ids + logprobs) or "" on error.
    error: why the record could not be scored (then the score arrays are empty), else None.
    fields: the record's other fields, carried along unchanged.
    """

    id: str
    segments: Segments | None
    sum_logprob: np.ndarray
    num_tokens: np.ndarray
    num_prompt_tokens: int = 0
    num_response_tokens: int = 0
    prompt_shared: bool = False
    source: str = ""
    error: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def mean_logprob(self) -> list[float | None]:
        """Per sentence sum_logprob / num_tokens; None where the sentence has no token."""
        return [s / n if n > 0 else None for s, n in zip(self.sum_logprob.tolist(), self.num_tokens.tolist())]

    @property
    def prob(self) -> list[float | None]:
        """Per sentence exp(mean log-prob), the geometric mean token probability; None without tokens."""
        return [None if m is None else math.exp(m) for m in self.mean_logprob]

    @classmethod
    def failed(cls, record_id: str, error: str, fields: dict[str, Any] | None = None) -> ScoredRecord:
        empty_f, empty_i = np.zeros(0, dtype=np.float64), np.zeros(0, dtype=np.int64)
        return cls(record_id, None, empty_f, empty_i, error=error, fields=fields or {})


@dataclass
class ScoreStats:
    """Counters of a scoring run (cumulative over `Scorer.score` calls).

    scored_tokens: tokens of every scored trace (prompt + response), what a per-record pass would forward.
    forwarded_tokens: tokens the model actually ran (a shared prompt counts once; padding excluded).
    padded_tokens: padding positions the model also ran (batch rows padded to one length).
    packed_batches: batches with several traces in one row.
    paths: which execution paths are on for the model and why others are off (`Capabilities.describe`).
    """

    records: int = 0
    scored: int = 0
    errors: int = 0
    precomputed: int = 0
    scored_tokens: int = 0
    forwarded_tokens: int = 0
    padded_tokens: int = 0
    shared_groups: int = 0
    batches: int = 0
    oom_splits: int = 0
    packed_batches: int = 0
    seconds: float = 0.0
    paths: dict[str, Any] = field(default_factory=dict)

    @property
    def tokens_per_second(self) -> float:
        return self.scored_tokens / self.seconds if self.seconds > 0 else 0.0
