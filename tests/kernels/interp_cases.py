"""Triton kernel cases for the CPU interpreter; run by test_kernel_interpreter.py with TRITON_INTERPRET=1.

Not collected by a plain ``pytest`` run (the name does not start with test_); the env var must be set
before triton is imported, hence the separate process. fp32 and fp16 only: the interpreter's bf16
arithmetic is not faithful.
"""

from __future__ import annotations

import os

import pytest

if os.environ.get("TRITON_INTERPRET") != "1":
    pytest.skip("needs TRITON_INTERPRET=1 set before triton is imported", allow_module_level=True)

import torch
from head_truth import (
    assert_error_within_tolerance,
    make_case,
    mean_error,
    score_case,
    truth,
)
from rdpt_fast.kernels.head_tiles import LOG2E_F
from rdpt_fast.kernels.logits_epilogue import logits_epilogue
from rdpt_fast.kernels.segment_logprobs import KernelConfig, fused_segment_logprobs
from rdpt_fast.kernels.segment_sum import deterministic_segment_sums

from rdpt_fast.head import segment_logprobs, token_logprobs

# (n, h, v, bias, scale, softcap): odd sizes so that token, hidden and vocab tiles are all ragged.
CASES = [
    (1, 32, 1000, False, 1.0, None),
    (7, 100, 1000, True, 1.0, None),
    (70, 32, 1100, False, 0.5, 30.0),
    (33, 100, 777, True, 1.7, 5.0),
]


@pytest.mark.parametrize(("n", "h", "v", "bias", "scale", "softcap"), CASES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_public_api_triton_backend(n, h, v, bias, scale, softcap, dtype) -> None:
    case = make_case(n, h, v, dtype=dtype, seed=n + h + v, bias=bias, logit_scale=scale, softcap=softcap)
    t = truth(case)
    scores = score_case(
        case,
        backend="triton",
        return_token_logprobs=True,
        with_entropy=True,
        with_top1=True,
    )
    assert torch.equal(scores.num_tokens.long(), t.seg_count)
    assert_error_within_tolerance(scores, case, t, dtype)
    torch.testing.assert_close(scores.token_logprobs.double(), t.token_lp, atol=1e-4, rtol=0)
    torch.testing.assert_close(scores.entropy.double(), t.entropy, atol=2e-4, rtol=1e-5)
    clear = t.top1_margin > 1e-3
    assert torch.equal(scores.top1[clear], t.top1[clear])


@pytest.mark.parametrize("num_splits", [1, 2, 5])
@pytest.mark.parametrize(
    "config",
    [KernelConfig(16, 16, 16, 1), KernelConfig(32, 128, 64, 3), KernelConfig(64, 32, 128, 8)],
    ids=["tiny", "wide", "deep"],
)
def test_kernel_splits_and_tiles(num_splits: int, config: KernelConfig) -> None:
    """Forced vocab splits (LSE merge) and several tile shapes, including group ordering edge cases."""
    case = make_case(45, 100, 600, seed=3, bias=True, softcap=8.0)
    t = truth(case)
    out = fused_segment_logprobs(
        case.hidden,
        case.weight,
        case.targets,
        case.segment_ids,
        case.num_segments,
        bias=case.bias,
        logit_scale=1.0,
        softcap=8.0,
        with_entropy=True,
        with_top1=True,
        num_splits=num_splits,
        config=config,
    )
    torch.testing.assert_close(out.token_logprobs.double(), t.token_lp, atol=1e-4, rtol=0)
    torch.testing.assert_close(out.entropy.double(), t.entropy, atol=2e-4, rtol=1e-5)
    assert torch.equal(out.seg_count.long(), t.seg_count)
    assert mean_error(out.seg_sum, out.seg_count, t) <= 1e-4


def test_larger_vocab_auto_splits() -> None:
    """V = 50257 with a short batch: the automatic split count is > 1 here."""
    case = make_case(7, 32, 50257, seed=4)
    t = truth(case)
    scores = segment_logprobs(
        case.hidden, case.weight, case.targets, case.segment_ids, case.num_segments, backend="triton"
    )
    assert mean_error(scores.sum_logprob, scores.num_tokens, t) <= 1e-4


def test_zero_tokens_and_zero_segments() -> None:
    empty = torch.zeros(0, dtype=torch.int64)
    scores = segment_logprobs(torch.zeros(0, 32), torch.randn(100, 32), empty, empty, 2, backend="triton")
    assert scores.sum_logprob.tolist() == [0.0, 0.0] and scores.num_tokens.tolist() == [0, 0]
    case = make_case(9, 32, 100, seed=1)
    lp = token_logprobs(case.hidden, case.weight, case.targets, backend="triton")
    torch.testing.assert_close(lp.double(), truth(case).token_lp, atol=1e-5, rtol=0)
    seg = torch.full((9,), -1)
    scores = segment_logprobs(case.hidden, case.weight, case.targets, seg, 0, backend="triton")
    assert scores.sum_logprob.shape == (0,) and scores.num_tokens.shape == (0,)


def test_all_ignored() -> None:
    case = make_case(20, 32, 100, seed=2)
    targets = torch.full((20,), -100)
    scores = segment_logprobs(
        case.hidden,
        case.weight,
        targets,
        case.segment_ids,
        case.num_segments,
        backend="triton",
        return_token_logprobs=True,
        with_top1=True,
    )
    assert int(scores.num_tokens.sum()) == 0 and float(scores.sum_logprob.abs().sum()) == 0.0
    assert bool((scores.token_logprobs == 0).all()) and not bool(scores.top1.any())


def _fused(case, **kw):
    return fused_segment_logprobs(
        case.hidden, case.weight, case.targets, case.segment_ids, case.num_segments, bias=case.bias,
        logit_scale=case.logit_scale, softcap=case.softcap, with_entropy=True, with_top1=True, **kw,
    )  # fmt: skip


def test_same_input_same_bits() -> None:
    """Deterministic: two runs give bit-identical per-segment sums and per-token outputs (no atomics)."""
    case = make_case(300, 64, 900, seed=8, bias=True, softcap=20.0, num_segments=17)
    first, second = _fused(case, num_splits=3), _fused(case, num_splits=3)
    for a, b in ((first.seg_sum, second.seg_sum), (first.token_logprobs, second.token_logprobs)):
        assert torch.equal(a.view(torch.int32), b.view(torch.int32))
    assert mean_error(first.seg_sum, first.seg_count, truth(case)) <= 1e-4


@pytest.mark.parametrize("n_segments", [0, 1, 5, 40])
def test_segment_sum_kernel_matches_python_loop(n_segments: int) -> None:
    g = torch.Generator().manual_seed(n_segments)
    n = 333
    values = torch.randn(n, generator=g)
    ids = torch.randint(-1, max(n_segments, 1), (n,), generator=g) if n_segments else torch.full((n,), -1)
    keep = (torch.rand(n, generator=g) < 0.8) & (ids >= 0)
    sums, counts = deterministic_segment_sums(values, keep, ids, n_segments)
    want = [0.0] * n_segments
    want_n = [0] * n_segments
    for v, s, k in zip(values.tolist(), ids.tolist(), keep.tolist(), strict=True):
        if k:
            want[s] += v
            want_n[s] += 1
    assert counts.tolist() == want_n
    torch.testing.assert_close(sums.double(), torch.tensor(want, dtype=torch.float64), atol=1e-5, rtol=0)


@pytest.mark.parametrize(("n", "v", "bias", "scale", "softcap"), [(5, 1000, False, 1.0, None),
                         (40, 5000, True, 0.7, 30.0), (9, 2048, True, 1.3, None)])  # fmt: skip
def test_logits_epilogue_against_fp64(n, v, bias, scale, softcap) -> None:
    """The cuBLAS backend's epilogue over a float32 raw-logits buffer (ragged and exact vocab tails)."""
    case = make_case(n, 48, v, seed=v + n, bias=bias, logit_scale=scale, softcap=softcap)
    t = truth(case)
    raw = (case.hidden.double() @ case.weight.double().T).float()
    lp, ent, top = torch.empty(n), torch.empty(n), torch.empty(n, dtype=torch.uint8)
    pre, post = (1.0, scale * LOG2E_F) if softcap is None else (scale / softcap, softcap * LOG2E_F)
    logits_epilogue(raw, case.targets, bias=case.bias, pre_scale=pre, post_scale=post,
                    softcap=softcap is not None, token_lp=lp, entropy=ent, top1=top)  # fmt: skip
    torch.testing.assert_close(lp.double(), t.token_lp, atol=1e-4, rtol=0)
    torch.testing.assert_close(ent.double(), t.entropy, atol=2e-4, rtol=1e-5)
    clear = t.top1_margin > 1e-3
    assert torch.equal(top.bool()[clear], t.top1[clear])


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
@pytest.mark.parametrize(("n", "h", "v", "bias", "scale", "softcap"), CASES[1:])
def test_public_api_cublas_backend(n, h, v, bias, scale, softcap, dtype) -> None:
    """backend="cublas" under the interpreter: the chunk loop with the Triton epilogue (about 3 chunks)."""
    case = make_case(n, h, v, dtype=dtype, seed=n + v, bias=bias, logit_scale=scale, softcap=softcap)
    t = truth(case)
    scores = score_case(case, backend="cublas", chunk_bytes=(n // 3 + 1) * v * 4, return_token_logprobs=True,
                        with_entropy=True, with_top1=True)  # fmt: skip
    assert torch.equal(scores.num_tokens.long(), t.seg_count)
    assert mean_error(scores.sum_logprob, scores.num_tokens, t) <= 1e-4
    torch.testing.assert_close(scores.token_logprobs.double(), t.token_lp, atol=1e-4, rtol=0)
    torch.testing.assert_close(scores.entropy.double(), t.entropy, atol=2e-4, rtol=1e-5)
    clear = t.top1_margin > 1e-3
    assert torch.equal(scores.top1[clear], t.top1[clear])
