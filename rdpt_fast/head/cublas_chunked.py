"""cuBLAS-chunked backend: per chunk of tokens one GEMM into a reused float32 logits buffer, then one pass.

The GEMM writes float32 logits (bf16/fp16 inputs never produce rounded bf16 logits: a logit rounded to bf16
moves a log-prob by up to ~0.1 nats): on CUDA ``torch.mm(..., out_dtype=torch.float32, out=buf)`` (cuBLAS
with float32 output) where this torch has it, else float32 products over 8 MiB float32 weight slices. The
pass over the chunk is the Triton epilogue ``kernels.logits_epilogue`` (log-sum-exp, target log-prob,
entropy, top-1, bias/scale/softcap in one read of the buffer) on CUDA and under the triton interpreter;
on a plain CPU the torch epilogue of the torch backend stands in. Extra memory: the float32 buffer(s),
at most ``chunk_bytes``, plus O(N).
"""

from __future__ import annotations

import torch

from rdpt_fast.head.torch_chunked import (
    DEFAULT_CHUNK_BYTES,
    LogitsWriter,
    chunk_rows,
    rows_of,
    torch_epilogue_,
)
from rdpt_fast.head.triton_backend import triton_available
from rdpt_fast.head.types import TokenStats
from rdpt_fast.head.validation import IGNORE_INDEX, HeadInputs


class Float32Gemm:
    """Writes float32 logits ``hidden_chunk @ weight.T`` into a given [rows, V] float32 buffer."""

    def __init__(self, weight: torch.Tensor) -> None:
        self.weight = weight
        self.fallback = LogitsWriter(weight)
        # cuBLAS with a float32 output for 16-bit inputs (torch >= 2.8 on CUDA); probed on first use
        self.out_dtype_mm = weight.device.type == "cuda" and weight.dtype != torch.float32

    def __call__(self, hidden_chunk: torch.Tensor, out: torch.Tensor) -> None:
        if self.out_dtype_mm:
            try:
                torch.mm(hidden_chunk, self.weight.T, out_dtype=torch.float32, out=out)
                return
            except (RuntimeError, TypeError, NotImplementedError):
                self.out_dtype_mm = False
        self.fallback(hidden_chunk, out)


def cublas_token_stats(
    inputs: HeadInputs, *, with_entropy: bool, with_top1: bool, chunk_bytes: int = DEFAULT_CHUNK_BYTES
) -> TokenStats:
    """Per-token log-probs (optionally entropy, top1), [N] each, with O(chunk_bytes + N) extra memory."""
    n_tokens, vocab = inputs.num_tokens, inputs.vocab_size
    device = inputs.hidden.device
    fused_epilogue = triton_available(device)
    buffers = 2 if with_entropy and not fused_epilogue else 1  # the torch epilogue needs scratch for entropy
    rows = chunk_rows(n_tokens, vocab, chunk_bytes, buffers=buffers)
    logprobs = torch.zeros(n_tokens, dtype=torch.float32, device=device)
    entropy = torch.empty(n_tokens, dtype=torch.float32, device=device) if with_entropy else None
    top1 = torch.empty(n_tokens, dtype=torch.bool, device=device) if with_top1 else None
    if n_tokens == 0:
        return TokenStats(logprobs, entropy, top1)

    buf = torch.empty(rows, vocab, dtype=torch.float32, device=device)
    scratch = torch.empty_like(buf) if buffers == 2 else None
    top1_u8 = (
        torch.empty(n_tokens, dtype=torch.uint8, device=device) if with_top1 and fused_epilogue else None
    )
    gemm = Float32Gemm(inputs.weight)
    valid = inputs.targets != IGNORE_INDEX
    safe_targets = torch.where(valid, inputs.targets, 0)
    for start in range(0, n_tokens, rows):
        stop = min(start + rows, n_tokens)
        out = buf[: stop - start]
        gemm(inputs.hidden[start:stop], out)
        part = slice(start, stop)
        ent = entropy[part] if entropy is not None else None
        if fused_epilogue:
            _triton_epilogue(out, inputs, part, logprobs, ent, top1_u8)
        else:
            t1 = top1[part] if top1 is not None else None
            scr = rows_of(scratch, stop - start)
            torch_epilogue_(out, scr, inputs, safe_targets[part], valid[part], logprobs[part], ent, t1)
    if top1_u8 is not None:
        top1 = top1_u8.view(torch.bool)
    return TokenStats(logprobs, entropy, top1)


def _triton_epilogue(
    out: torch.Tensor,
    inputs: HeadInputs,
    part: slice,
    logprobs: torch.Tensor,
    entropy: torch.Tensor | None,
    top1_u8: torch.Tensor | None,
) -> None:
    from rdpt_fast.kernels.head_tiles import transform_scales
    from rdpt_fast.kernels.logits_epilogue import logits_epilogue

    pre, post = transform_scales(inputs.logit_scale, inputs.softcap)
    logits_epilogue(
        out, inputs.targets[part], bias=inputs.bias, pre_scale=pre, post_scale=post,
        softcap=inputs.softcap is not None, token_lp=logprobs[part], entropy=entropy,
        top1=top1_u8[part] if top1_u8 is not None else None,
    )  # fmt: skip
