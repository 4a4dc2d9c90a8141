"""Input validation: every malformed input raises a clear error before any work is done."""

from __future__ import annotations

import pytest
import torch

from rdpt_fast.head import segment_logprobs, token_logprobs


def _good() -> dict:
    g = torch.Generator().manual_seed(0)
    return {
        "hidden": torch.randn(6, 8, generator=g),
        "weight": torch.randn(20, 8, generator=g),
        "targets": torch.tensor([0, 5, -100, 19, 3, 2]),
        "segment_ids": torch.tensor([0, 0, 1, -1, 2, 2]),
        "num_segments": 3,
    }


def _call(**changes: object) -> None:
    kw = {**_good(), **changes}
    segment_logprobs(
        kw.pop("hidden"),
        kw.pop("weight"),
        kw.pop("targets"),
        kw.pop("segment_ids"),
        kw.pop("num_segments"),
        **kw,
    )


def test_good_inputs_pass() -> None:
    _call()


@pytest.mark.parametrize(
    ("changes", "error", "match"),
    [
        ({"hidden": torch.randn(6, 8, 1)}, ValueError, "hidden must be 2-D"),
        ({"weight": torch.randn(20, 9)}, ValueError, "H = 8"),
        ({"weight": torch.randn(0, 8)}, ValueError, "empty vocabulary"),
        ({"hidden": torch.randn(6, 8, dtype=torch.float64)}, TypeError, "hidden must be float32"),
        ({"hidden": torch.randn(6, 8).half()}, TypeError, "same dtype"),
        ({"hidden": torch.randint(0, 3, (6, 8))}, TypeError, "hidden must be float32"),
        ({"targets": torch.tensor([0, 5, -100, 20, 3, 2])}, ValueError, r"targets\[3\] = 20 is out of range"),
        ({"targets": torch.tensor([0, 5, -1, 2, 3, 2])}, ValueError, r"targets\[2\] = -1"),
        ({"targets": torch.zeros(5, dtype=torch.int64)}, ValueError, r"targets must have shape \[N\]"),
        ({"targets": torch.zeros(6)}, TypeError, "targets must be an integer tensor"),
        (
            {"segment_ids": torch.tensor([0, 0, 1, -1, 3, 2])},
            ValueError,
            r"segment_ids\[4\] = 3 is out of range",
        ),
        ({"segment_ids": torch.tensor([0, 0, -2, -1, 2, 2])}, ValueError, r"segment_ids\[2\] = -2"),
        (
            {"segment_ids": torch.zeros(6, dtype=torch.bool)},
            TypeError,
            "segment_ids must be an integer tensor",
        ),
        ({"segment_ids": [0, 0, 1, -1, 2, 2]}, TypeError, "segment_ids must be a torch.Tensor"),
        ({"num_segments": -1}, ValueError, "num_segments"),
        ({"num_segments": 2.0}, ValueError, "num_segments"),
        ({"bias": torch.zeros(19)}, ValueError, "bias must be"),
        ({"logit_scale": float("nan")}, ValueError, "logit_scale"),
        ({"softcap": 0.0}, ValueError, "softcap"),
        ({"softcap": -3.0}, ValueError, "softcap"),
        ({"backend": "cuda"}, ValueError, "unknown backend"),
        ({"chunk_bytes": 0, "backend": "torch"}, ValueError, "chunk_bytes"),
    ],
)
def test_bad_inputs_raise(changes: dict, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        _call(**changes)


def test_device_mismatch_raises() -> None:
    meta_weight = torch.empty(20, 8, device="meta")
    with pytest.raises(ValueError, match="weight is on meta but hidden is on cpu"):
        _call(weight=meta_weight)
    with pytest.raises(ValueError, match="segment_ids is on meta"):
        _call(segment_ids=torch.zeros(6, dtype=torch.int64, device="meta"))


def test_triton_backend_refused_without_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    with pytest.raises(ValueError, match="backend 'triton' needs CUDA"):
        _call(backend="triton")


def test_token_logprobs_validates_too() -> None:
    g = _good()
    with pytest.raises(ValueError, match="out of range"):
        token_logprobs(g["hidden"], g["weight"], torch.tensor([0, 1, 2, 3, 4, 99]))
