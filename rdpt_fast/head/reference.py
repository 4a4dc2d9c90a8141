"""Naive reference backend: full float32 logits, log_softmax, gather. O(N x V) memory: tests, benchmarks."""

from __future__ import annotations

import torch

from rdpt_fast.head.logits import transform_logits_
from rdpt_fast.head.types import TokenStats
from rdpt_fast.head.validation import IGNORE_INDEX, HeadInputs


def reference_token_stats(inputs: HeadInputs, *, with_entropy: bool, with_top1: bool) -> TokenStats:
    """Per-token log-probs (and optionally entropy, top1) from the full [N, V] float32 logits."""
    logits = inputs.hidden.float() @ inputs.weight.float().T
    transform_logits_(logits, inputs.bias, inputs.logit_scale, inputs.softcap)
    logp = torch.log_softmax(logits, dim=-1)
    valid = inputs.targets != IGNORE_INDEX
    safe_targets = torch.where(valid, inputs.targets, 0)
    target_logp = logp.gather(1, safe_targets[:, None])[:, 0]
    entropy = -(logp.exp() * logp).sum(dim=-1) if with_entropy else None
    top1 = valid & (target_logp >= logp.max(dim=-1).values) if with_top1 else None
    return TokenStats(logprobs=torch.where(valid, target_logp, 0.0), entropy=entropy, top1=top1)
