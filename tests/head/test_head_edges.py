"""Edge cases: empty inputs, no segments, all ignored, tied weights, layouts, chunk sizes, mean semantics."""

from __future__ import annotations

import math

import pytest
import torch
from head_truth import make_case, mean_error, truth

from rdpt_fast.head import SegmentScores, segment_logprobs
from rdpt_fast.head.torch_chunked import chunk_rows

BACKENDS = ["torch", "cublas", "reference"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_zero_tokens(backend: str) -> None:
    hidden, weight = torch.zeros(0, 16), torch.randn(50, 16)
    empty = torch.zeros(0, dtype=torch.int64)
    scores = segment_logprobs(
        hidden, weight, empty, empty, 3, backend=backend, return_token_logprobs=True, with_entropy=True
    )
    assert torch.equal(scores.sum_logprob, torch.zeros(3)) and torch.equal(
        scores.num_tokens, torch.zeros(3, dtype=torch.int32)
    )
    assert scores.token_logprobs is not None and scores.token_logprobs.shape == (0,)
    assert scores.entropy is not None and scores.entropy.shape == (0,)
    assert bool(scores.mean_logprob.isnan().all()) and not bool(scores.scored.any())


@pytest.mark.parametrize("backend", BACKENDS)
def test_zero_segments_still_gives_token_logprobs(backend: str) -> None:
    case = make_case(20, 32, 300, seed=5)
    t = truth(case)
    seg = torch.full((20,), -1, dtype=torch.int64)
    scores = segment_logprobs(
        case.hidden, case.weight, case.targets, seg, 0, backend=backend, return_token_logprobs=True
    )
    assert scores.sum_logprob.shape == (0,) and scores.num_tokens.shape == (0,)
    assert scores.token_logprobs is not None
    torch.testing.assert_close(scores.token_logprobs.double(), t.token_lp, atol=1e-5, rtol=0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_all_targets_ignored(backend: str) -> None:
    case = make_case(30, 32, 300, seed=6)
    targets = torch.full((30,), -100)
    seg = case.segment_ids.clamp(max=3)
    scores = segment_logprobs(
        case.hidden,
        case.weight,
        targets,
        seg,
        4,
        backend=backend,
        return_token_logprobs=True,
        with_top1=True,
    )
    assert torch.equal(scores.num_tokens, torch.zeros(4, dtype=torch.int32))
    assert torch.equal(scores.sum_logprob, torch.zeros(4))
    assert scores.token_logprobs is not None and bool((scores.token_logprobs == 0).all())
    assert scores.top1 is not None and not bool(scores.top1.any())


def test_mean_logprob_is_nan_exactly_where_unscored() -> None:
    scores = SegmentScores(
        sum_logprob=torch.tensor([-3.0, 0.0, -1.0]), num_tokens=torch.tensor([2, 0, 4], dtype=torch.int32)
    )
    mean = scores.mean_logprob
    assert mean.dtype == torch.float32
    assert mean[0].item() == -1.5 and mean[2].item() == -0.25 and math.isnan(mean[1].item())
    assert scores.scored.tolist() == [True, False, True]
    assert math.isclose(scores.prob[0].item(), math.exp(-1.5), rel_tol=1e-6)


@pytest.mark.parametrize("backend", BACKENDS)
def test_tied_embedding_parameter(backend: str) -> None:
    """Head weight is the (requires-grad) embedding parameter; hidden states are derived from it."""
    torch.manual_seed(0)
    emb = torch.nn.Embedding(500, 48)
    ids = torch.randint(0, 500, (40,))
    hidden = emb(ids) * 2.0 + 0.1
    targets = torch.roll(ids, -1)
    seg = torch.arange(40) // 10
    scores = segment_logprobs(hidden, emb.weight, targets, seg, 4, backend=backend)
    x = hidden.detach().double() @ emb.weight.detach().double().T
    lp = x.gather(1, targets[:, None])[:, 0] - torch.logsumexp(x, dim=1)
    expected = torch.zeros(4, dtype=torch.float64).index_add_(0, seg, lp) / 10
    torch.testing.assert_close(scores.mean_logprob.double(), expected, atol=1e-4, rtol=0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_layouts_and_integer_dtypes(backend: str) -> None:
    """Non-contiguous hidden/weight views and int32 targets/segment ids give the same answer as truth."""
    case = make_case(64, 40, 700, seed=8, bias=True)
    t = truth(case)
    hidden_t = case.hidden.T.contiguous().T  # column-major storage, same values
    weight_strided = torch.cat([case.weight, case.weight], dim=1)[:, :40]  # row stride 80
    scores = segment_logprobs(
        hidden_t,
        weight_strided,
        case.targets.to(torch.int32),
        case.segment_ids.to(torch.int32),
        case.num_segments,
        bias=case.bias,
        backend=backend,
    )
    assert mean_error(scores.sum_logprob, scores.num_tokens, t) <= 1e-4


@pytest.mark.parametrize("chunk_bytes", [1, 700 * 4 * 5, 256 * 2**20])
def test_torch_backend_any_chunk_budget(chunk_bytes: int) -> None:
    case = make_case(37, 32, 700, seed=9, softcap=10.0)
    t = truth(case)
    scores = segment_logprobs(
        case.hidden, case.weight, case.targets, case.segment_ids, case.num_segments,
        softcap=10.0, backend="torch", chunk_bytes=chunk_bytes, with_entropy=True,
    )  # fmt: skip
    assert mean_error(scores.sum_logprob, scores.num_tokens, t) <= 1e-4
    assert scores.entropy is not None
    torch.testing.assert_close(scores.entropy.double(), t.entropy, atol=2e-4, rtol=1e-5)


@pytest.mark.parametrize("max_rows", [None, 256, 3])
@pytest.mark.parametrize(
    ("n", "v", "budget", "buffers"),
    [(2048, 129280, 256 * 2**20, 1), (5, 10, 10**9, 1), (100, 1000, 4000 * 7, 2), (10, 1000, 1, 1)],
)
def test_chunk_rows_respects_budget(n: int, v: int, budget: int, buffers: int, max_rows: int | None) -> None:
    rows = chunk_rows(n, v, budget, buffers, max_rows)
    assert 1 <= rows <= max(n, 1)
    assert max_rows is None or rows <= max_rows
    assert rows * v * 4 * buffers <= budget or rows == 1
    n_chunks = -(-n // rows)
    assert n_chunks * rows - n < rows  # balanced: the last chunk is not a sliver of a huge one


def test_chunk_rows_rejects_nonpositive_budget() -> None:
    with pytest.raises(ValueError, match="chunk_bytes"):
        chunk_rows(10, 10, 0, 1)


@pytest.mark.parametrize("chunked", ["torch", "cublas"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_torch_backend_never_allocates_full_logits(dtype: torch.dtype, chunked: str) -> None:
    """The largest single allocation of a chunked backend is one chunk, while the reference's is [N, V]."""
    from torch.profiler import ProfilerActivity, profile

    n, v, budget_rows = 600, 3000, 100
    case = make_case(n, 32, v, dtype=dtype, seed=12)
    largest = {}
    for backend in (chunked, "reference"):
        with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
            segment_logprobs(
                case.hidden, case.weight, case.targets, case.segment_ids, case.num_segments,
                backend=backend, chunk_bytes=budget_rows * v * 4, with_entropy=True, with_top1=True,
            )  # fmt: skip
        largest[backend] = max(e.cpu_memory_usage for e in prof.events())
    assert largest[chunked] <= budget_rows * v * 4 // 2 + 64  # entropy: two half-size buffers in the budget
    assert largest["reference"] >= n * v * 4
