"""Input checks and normalization shared by every backend."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

IGNORE_INDEX = -100
FLOAT_DTYPES = (torch.float32, torch.float16, torch.bfloat16)


@dataclass(frozen=True)
class HeadInputs:
    """Validated inputs: hidden [N, H] and weight [V, H] share a float dtype, device and unit H-stride;
    targets [N] int64 in [0, V) or -100; bias [V] float32 or None; logit_scale finite; softcap > 0 or None.
    """

    hidden: torch.Tensor
    weight: torch.Tensor
    targets: torch.Tensor
    bias: torch.Tensor | None
    logit_scale: float
    softcap: float | None

    @property
    def num_tokens(self) -> int:
        return self.hidden.shape[0]

    @property
    def vocab_size(self) -> int:
        return self.weight.shape[0]


def _check_device(name: str, tensor: torch.Tensor, device: torch.device) -> None:
    if tensor.device != device:
        raise ValueError(
            f"{name} is on {tensor.device} but hidden is on {device}; put all inputs on one device"
        )


def _check_index_vector(name: str, tensor: torch.Tensor, n_tokens: int) -> None:
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(tensor).__name__}")
    if tensor.dim() != 1 or tensor.shape[0] != n_tokens:
        raise ValueError(f"{name} must have shape [N] = [{n_tokens}], got {list(tensor.shape)}")
    if tensor.dtype.is_floating_point or tensor.dtype.is_complex or tensor.dtype == torch.bool:
        raise TypeError(f"{name} must be an integer tensor, got {tensor.dtype}")


def validate_head_inputs(
    hidden: torch.Tensor,
    weight: torch.Tensor,
    targets: torch.Tensor,
    *,
    bias: torch.Tensor | None,
    logit_scale: float,
    softcap: float | None,
) -> HeadInputs:
    """Check shapes, dtypes, devices and target range; raise ValueError/TypeError with a clear message."""
    for name, t in (("hidden", hidden), ("weight", weight)):
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
        if t.dim() != 2:
            raise ValueError(f"{name} must be 2-D, got shape {list(t.shape)}")
        if t.dtype not in FLOAT_DTYPES:
            raise TypeError(f"{name} must be float32, float16 or bfloat16, got {t.dtype}")
    if hidden.dtype != weight.dtype:
        raise TypeError(f"hidden ({hidden.dtype}) and weight ({weight.dtype}) must have the same dtype")
    n_tokens, h_dim = hidden.shape
    vocab, w_h = weight.shape
    if w_h != h_dim:
        raise ValueError(
            f"weight must be [V, H] with H = {h_dim} (hidden's last dim), got {list(weight.shape)}"
        )
    if vocab == 0:
        raise ValueError("weight has an empty vocabulary (V = 0)")
    device = hidden.device
    _check_device("weight", weight, device)
    _check_index_vector("targets", targets, n_tokens)
    _check_device("targets", targets, device)
    if bias is not None:
        if not isinstance(bias, torch.Tensor) or bias.shape != (vocab,) or not bias.dtype.is_floating_point:
            raise ValueError(f"bias must be a float tensor of shape [V] = [{vocab}]")
        _check_device("bias", bias, device)
    if not math.isfinite(float(logit_scale)):
        raise ValueError(f"logit_scale must be finite, got {logit_scale}")
    if softcap is not None and not (math.isfinite(float(softcap)) and float(softcap) > 0):
        raise ValueError(f"softcap must be a positive finite number or None, got {softcap}")
    targets = targets.to(torch.int64)
    bad = (targets != IGNORE_INDEX) & ((targets < 0) | (targets >= vocab))
    if n_tokens and bool(bad.any()):
        first = int(bad.nonzero()[0, 0])
        raise ValueError(
            f"targets[{first}] = {int(targets[first])} is out of range: targets must be in [0, {vocab}) "
            f"or {IGNORE_INDEX} (ignored)"
        )
    # Scoring is inference: detach (free) so that parameters, e.g. tied embeddings, work with out= kernels.
    hidden = hidden.detach()
    weight = weight.detach()
    if hidden.stride(-1) != 1:
        hidden = hidden.contiguous()
    if weight.stride(-1) != 1:
        weight = weight.contiguous()
    return HeadInputs(
        hidden=hidden,
        weight=weight,
        targets=targets,
        bias=bias.detach().to(torch.float32).contiguous() if bias is not None else None,
        logit_scale=float(logit_scale),
        softcap=float(softcap) if softcap is not None else None,
    )


def validate_segments(
    segment_ids: torch.Tensor, num_segments: int, n_tokens: int, device: torch.device
) -> torch.Tensor:
    """Check segment ids ([N] integers in [-1, num_segments)); return them as int64."""
    if isinstance(num_segments, bool) or not isinstance(num_segments, int) or num_segments < 0:
        raise ValueError(f"num_segments must be a non-negative int, got {num_segments!r}")
    _check_index_vector("segment_ids", segment_ids, n_tokens)
    _check_device("segment_ids", segment_ids, device)
    segment_ids = segment_ids.to(torch.int64)
    bad = (segment_ids < -1) | (segment_ids >= num_segments)
    if n_tokens and bool(bad.any()):
        first = int(bad.nonzero()[0, 0])
        raise ValueError(
            f"segment_ids[{first}] = {int(segment_ids[first])} is out of range: segment ids must be -1 "
            f"(not in a segment) or in [0, num_segments = {num_segments})"
        )
    return segment_ids
