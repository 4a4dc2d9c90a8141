"""Torch and reference backends against a float64 ground truth on odd shapes, all options."""

from __future__ import annotations

import functools

import pytest
import torch
from head_truth import (
    Case,
    Truth,
    make_case,
    mean_error,
    naive_same_dtype_token_lp,
    score_case,
    segment_sums,
    truth,
)

from rdpt_fast.head import token_logprobs

BACKENDS = ["torch", "cublas", "reference"]
SHAPES = [(n, h, v) for n in (1, 7, 257, 1000) for h in (32, 100) for v in (1000, 50257)]
# (bias, logit_scale, softcap) cycled over the shapes so every option meets small and large shapes.
OPTIONS = [(False, 1.0, None), (True, 1.0, None), (False, 0.5, 30.0), (True, 1.7, 5.0)]


@functools.lru_cache(maxsize=8)
def _case_and_truth(n: int, h: int, v: int, dtype: torch.dtype, opt: int) -> tuple[Case, Truth]:
    bias, scale, softcap = OPTIONS[opt]
    case = make_case(n, h, v, dtype=dtype, seed=n * 31 + h + v, bias=bias, logit_scale=scale, softcap=softcap)
    return case, truth(case)


def _small_chunks(case: Case) -> int:
    """A chunk budget that makes the torch backend take about three chunks (exercises the chunk loop)."""
    n, v = case.hidden.shape[0], case.weight.shape[0]
    return max(1, (n // 3 + 1) * v * 4)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("n", "h", "v"), SHAPES)
def test_fp32_segment_means_match_fp64(backend: str, n: int, h: int, v: int) -> None:
    opt = SHAPES.index((n, h, v)) % len(OPTIONS)
    case, t = _case_and_truth(n, h, v, torch.float32, opt)
    scores = score_case(
        case,
        backend=backend,
        return_token_logprobs=True,
        chunk_bytes=_small_chunks(case),
    )
    assert scores.sum_logprob.dtype == torch.float32 and scores.num_tokens.dtype == torch.int32
    assert scores.sum_logprob.shape == (case.num_segments,)
    assert torch.equal(scores.num_tokens.long(), t.seg_count)
    assert mean_error(scores.sum_logprob, scores.num_tokens, t) <= 1e-4
    assert scores.token_logprobs is not None and scores.token_logprobs.dtype == torch.float32
    torch.testing.assert_close(scores.token_logprobs.double(), t.token_lp, atol=1e-4, rtol=0)
    assert scores.entropy is None and scores.top1 is None


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize(
    ("n", "h", "v", "opt"), [(7, 32, 1000, 0), (257, 100, 50257, 3), (1000, 100, 1000, 2)]
)
def test_low_precision_error_within_twice_naive(
    backend: str, dtype: torch.dtype, n: int, h: int, v: int, opt: int
) -> None:
    """Flash-attention style: error vs fp64 truth <= 2 x (naive same-dtype pipeline's error) + 1e-3."""
    case, t = _case_and_truth(n, h, v, dtype, opt)
    scores = score_case(
        case,
        backend=backend,
        chunk_bytes=_small_chunks(case),
    )
    naive_sum, naive_count = segment_sums(naive_same_dtype_token_lp(case), case)
    naive_err = mean_error(naive_sum, naive_count, t)
    assert mean_error(scores.sum_logprob, scores.num_tokens, t) <= 2 * naive_err + 1e-3


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    ("n", "h", "v", "opt"), [(7, 100, 1000, 1), (257, 32, 50257, 3), (1000, 32, 1000, 0)]
)
def test_entropy_and_top1_match_fp64(backend: str, n: int, h: int, v: int, opt: int) -> None:
    case, t = _case_and_truth(n, h, v, torch.float32, opt)
    scores = score_case(
        case,
        backend=backend,
        with_entropy=True,
        with_top1=True,
        chunk_bytes=_small_chunks(case),
    )
    assert scores.entropy is not None and scores.entropy.dtype == torch.float32
    torch.testing.assert_close(scores.entropy.double(), t.entropy, atol=2e-4, rtol=1e-5)
    assert scores.top1 is not None and scores.top1.dtype == torch.bool
    clear = t.top1_margin > 1e-3
    assert torch.equal(scores.top1[clear], t.top1[clear])
    assert bool(t.top1.any()) and not bool(t.top1.all())  # the case exercises both outcomes
    assert mean_error(scores.sum_logprob, scores.num_tokens, t) <= 1e-4


@pytest.mark.parametrize("backend", ["auto", *BACKENDS])
def test_token_logprobs_matches_fp64(backend: str) -> None:
    case, t = _case_and_truth(257, 100, 1000, torch.float32, 2)
    lp = token_logprobs(case.hidden, case.weight, case.targets, **case.kwargs(), backend=backend)
    assert lp.shape == (257,) and lp.dtype == torch.float32
    torch.testing.assert_close(lp.double(), t.token_lp, atol=1e-4, rtol=0)
    assert bool((lp[case.targets == -100] == 0).all())
