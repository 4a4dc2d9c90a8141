"""GPU-only checks of the fused Triton kernel: bf16, model-sized shapes, limits and memory. Skipped on CPU."""

from __future__ import annotations

import importlib.util

import pytest
import torch
from head_truth import (
    assert_error_within_tolerance,
    make_case,
    mean_error,
    score_case,
    truth,
)

from rdpt_fast.head import segment_logprobs

pytestmark = [
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
    pytest.mark.skipif(importlib.util.find_spec("triton") is None, reason="triton is not installed"),
]


def _scores(case, backend: str = "triton", **kw):
    return score_case(case, backend=backend, **kw)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16, torch.float32])
@pytest.mark.parametrize(
    ("n", "h", "v", "softcap"),
    [
        (2048, 1536, 151936, None),
        (300, 3584, 152064, None),
        (96, 8192, 262144, 30.0),
        (1000, 2304, 128256, 30.0),
    ],
)
def test_model_shapes_against_fp64(dtype: torch.dtype, n: int, h: int, v: int, softcap: float | None) -> None:
    case = make_case(
        n, h, v, dtype=dtype, seed=n + h, bias=False, softcap=softcap, num_segments=40, device="cuda"
    )
    t = truth(case)
    scores = _scores(case, with_entropy=True, with_top1=True)
    assert torch.equal(scores.num_tokens.long(), t.seg_count)
    assert_error_within_tolerance(scores, case, t, dtype)
    entropy_tol = 2e-4 if dtype == torch.float32 else 2e-3
    torch.testing.assert_close(scores.entropy.double(), t.entropy, atol=entropy_tol, rtol=1e-4)
    clear = t.top1_margin > 1e-2
    assert torch.equal(scores.top1[clear], t.top1[clear])


@pytest.mark.parametrize("n", [0, 1, 17, 200])
def test_short_batches_split_vocab(n: int) -> None:
    case = make_case(n, 1024, 151936, dtype=torch.bfloat16, seed=n, bias=True, device="cuda")
    t = truth(case)
    scores = _scores(case, return_token_logprobs=True)
    torch.testing.assert_close(scores.token_logprobs.double(), t.token_lp, atol=2e-3, rtol=0)
    assert torch.equal(scores.num_tokens.long(), t.seg_count)


def test_triton_agrees_with_torch_backend_on_gpu() -> None:
    case = make_case(
        1500, 512, 50257, dtype=torch.float32, seed=11, bias=True, logit_scale=0.8, device="cuda"
    )
    t = truth(case)
    for backend in ("triton", "torch", "reference"):
        assert mean_error(_scores(case, backend).sum_logprob, _scores(case, backend).num_tokens, t) <= 1e-4


def test_peak_extra_memory_is_small_for_long_traces() -> None:
    """N=32768, H=1536, V=151936 bf16: peak extra memory < 64 MiB (fp32 logits would be ~20 GB)."""
    n, h, v = 32768, 1536, 151936
    g = torch.Generator(device="cuda").manual_seed(0)
    hidden = torch.randn(n, h, device="cuda", dtype=torch.bfloat16, generator=g)
    weight = torch.randn(v, h, device="cuda", dtype=torch.bfloat16, generator=g) * 0.05
    targets = torch.randint(0, v, (n,), device="cuda", generator=g)
    seg = torch.arange(n, device="cuda") // 64
    segment_logprobs(hidden, weight, targets, seg, n // 64, backend="triton")  # autotune outside the window
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    base = torch.cuda.memory_allocated()
    scores = segment_logprobs(hidden, weight, targets, seg, n // 64, backend="triton")
    torch.cuda.synchronize()
    extra = torch.cuda.max_memory_allocated() - base
    assert extra < 64 * 2**20, f"peak extra memory {extra / 2**20:.1f} MiB"
    assert bool(torch.isfinite(scores.sum_logprob).all())
