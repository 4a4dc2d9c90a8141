"""The logit transform shared by the torch and reference backends (the triton kernel fuses the same)."""

from __future__ import annotations

import torch


def transform_logits_(
    logits: torch.Tensor, bias: torch.Tensor | None, logit_scale: float, softcap: float | None
) -> torch.Tensor:
    """In place on float logits [rows, V]: ``x = scale * (x + bias)``, then ``softcap * tanh(x / softcap)``.

    The scale is folded into the softcap's division, so softcap costs three passes and scale alone one.
    """
    if bias is not None:
        logits.add_(bias)
    if softcap is not None:
        logits.mul_(logit_scale / softcap).tanh_().mul_(softcap)
    elif logit_scale != 1.0:
        logits.mul_(logit_scale)
    return logits
