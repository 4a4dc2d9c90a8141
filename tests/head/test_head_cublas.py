"""The cuBLAS-chunked backend's chunk loop (on the CPU with the torch epilogue) and the `auto` rule."""

from __future__ import annotations

import pytest
import torch
from head_truth import make_case, mean_error, score_case, truth

from rdpt_fast.head import resolve_backend
from rdpt_fast.head.api import AUTO_CUBLAS_MIN_TOKENS


@pytest.mark.parametrize("chunk_bytes", [1, 700 * 4 * 5, 256 * 2**20])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_cublas_any_chunk_budget_against_fp64(chunk_bytes: int, dtype: torch.dtype) -> None:
    """Odd shapes, every option, chunks of 1 row to all rows; low precision within the test tolerance."""
    case = make_case(37, 48, 700, dtype=dtype, seed=9, bias=True, logit_scale=0.9, softcap=10.0)
    t = truth(case)
    scores = score_case(case, backend="cublas", chunk_bytes=chunk_bytes, with_entropy=True, with_top1=True,
                        return_token_logprobs=True)  # fmt: skip
    # logits are float32 from the (possibly rounded) inputs: fp32 tolerance for every dtype
    assert mean_error(scores.sum_logprob, scores.num_tokens, t) <= 1e-4
    torch.testing.assert_close(scores.token_logprobs.double(), t.token_lp, atol=1e-4, rtol=0)
    torch.testing.assert_close(scores.entropy.double(), t.entropy, atol=2e-4, rtol=1e-5)
    clear = t.top1_margin > 1e-3
    assert torch.equal(scores.top1[clear], t.top1[clear])
    assert torch.equal(scores.num_tokens.long(), t.seg_count)


def test_auto_rule() -> None:
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert resolve_backend("auto", cpu, 10**6) == "torch"
    assert resolve_backend("cublas", cpu) == "cublas"
    pytest.importorskip("triton")
    from rdpt_fast.kernels.segment_logprobs import interpreting

    if interpreting():
        pytest.skip("under the interpreter triton runs on CPU tensors")
    assert resolve_backend("auto", cuda, AUTO_CUBLAS_MIN_TOKENS) == "cublas"
    assert resolve_backend("auto", cuda, AUTO_CUBLAS_MIN_TOKENS - 1) == "triton"
    assert resolve_backend("auto", cuda) == "triton"
