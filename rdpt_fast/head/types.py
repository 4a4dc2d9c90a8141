"""Result types of the head-scoring API."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class TokenStats:
    """Per-token outputs of one backend, all [N] on the input device.

    logprobs: float32, log p(target) in nats; 0.0 where the target is ignored (-100).
    entropy: float32 entropy (nats) of the model's distribution, for every token (ignored ones too), or None.
    top1: bool, True where the target's logit equals the maximum logit (ties count); False where ignored.
    """

    logprobs: torch.Tensor
    entropy: torch.Tensor | None = None
    top1: torch.Tensor | None = None


@dataclass(frozen=True)
class SegmentScores:
    """Per-segment scores of one sequence (or a packed batch of sequences) under one model.

    sum_logprob: [S] float32, sum of log p(target) (nats) over the segment's scored tokens, accumulated in
        float64, deterministic on every backend (no float atomics).
    num_tokens: [S] int32, tokens with a valid target (!= -100) and this segment id.
    token_logprobs: [N] float32 when asked for (0.0 at ignored targets), else None.
    entropy: [N] float32 per-token entropy (nats) when asked for, else None.
    top1: [N] bool, target was (one of) the argmax, when asked for, else None (triton and cublas backends:
        within 1e-4 + 1e-5 relative of the maximum, as the target logit is computed separately).
    """

    sum_logprob: torch.Tensor
    num_tokens: torch.Tensor
    token_logprobs: torch.Tensor | None = None
    entropy: torch.Tensor | None = None
    top1: torch.Tensor | None = None

    @property
    def scored(self) -> torch.Tensor:
        """[S] bool: True where the segment has at least one scored token."""
        return self.num_tokens > 0

    @property
    def mean_logprob(self) -> torch.Tensor:
        """[S] float32 mean token log-prob; NaN exactly where ``scored`` is False (no tokens: no score).

        Writers must turn those NaNs into nulls using ``scored``; no number is invented for them.
        """
        count = self.num_tokens.to(torch.float32)
        mean = self.sum_logprob / count.clamp(min=1.0)
        return torch.where(self.scored, mean, torch.full_like(mean, float("nan")))

    @property
    def prob(self) -> torch.Tensor:
        """[S] float32 geometric-mean token probability exp(mean_logprob); NaN where ``scored`` is False."""
        return torch.exp(self.mean_logprob)
