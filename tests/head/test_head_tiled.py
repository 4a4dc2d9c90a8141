"""The vocab-tiled CPU head (`backend="torch"` on the CPU): any block and tile size against float64 truth,
and the buffer within its budget."""

from __future__ import annotations

import pytest
import torch
from head_truth import make_case, mean_error, truth

from rdpt_fast.head.torch_tiled import tile_shape, tiled_token_stats
from rdpt_fast.head.validation import validate_head_inputs


@pytest.mark.parametrize(("tile_bytes", "block_rows"), [(1, 4096), (4 * 37 * 100, 7), (8 * 2**20, 4096)])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("extras", [{}, {"bias": True, "logit_scale": 0.9, "softcap": 10.0}])
def test_tiled_any_tiling_against_fp64(tile_bytes, block_rows, dtype, extras):
    """One row x one column tiles up to everything in one tile; partial last blocks and tiles."""
    case = make_case(37, 48, 701, dtype=dtype, seed=4, **extras)
    t = truth(case)
    inputs = validate_head_inputs(case.hidden, case.weight, case.targets, **case.kwargs())
    for entropy, top1 in ((True, True), (False, True), (False, False)):
        got = tiled_token_stats(
            inputs, with_entropy=entropy, with_top1=top1, tile_bytes=tile_bytes, block_rows=block_rows
        )
        torch.testing.assert_close(got.logprobs.double(), t.token_lp, atol=1e-4, rtol=0)
        if entropy:
            torch.testing.assert_close(got.entropy.double(), t.entropy, atol=2e-4, rtol=1e-5)
        if top1:
            clear = t.top1_margin > 1e-3
            assert torch.equal(got.top1[clear], t.top1[clear])


def test_segment_sums_through_the_public_api():
    from head_truth import score_case

    case = make_case(300, 64, 5003, dtype=torch.float32, seed=5)
    scores = score_case(case, backend="torch", chunk_bytes=4 * 64 * 600)  # many blocks and tiles
    assert mean_error(scores.sum_logprob, scores.num_tokens, truth(case)) <= 1e-5


@pytest.mark.parametrize(("n", "vocab", "budget"), [(1, 10, 1), (5000, 151936, 8 * 2**20), (37, 701, 4000)])
def test_tile_within_budget_and_blocks_even(n, vocab, budget):
    block, columns = tile_shape(n, vocab, budget)
    assert 1 <= block <= n and 1 <= columns <= vocab
    assert block * columns * 4 <= max(budget, 4 * block)  # one column per row at least
    blocks = -(-n // block)
    assert blocks * block - n < blocks  # the last block is no sliver
