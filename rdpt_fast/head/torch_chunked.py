"""Chunked torch backend (the CPU engine; also runs on GPU): bounded [rows, V] float32 logits buffer.

Per chunk of tokens: logits are written into one preallocated buffer (``matmul(out=)``), transformed in
place, turned into log-probs in place (``log_softmax(out=)`` is one fused row-wise pass), and the target
column is gathered. No [N, V] tensor and no float64 ever exist; the buffer is reused across chunks.
"""

from __future__ import annotations

import torch

from rdpt_fast.head.logits import transform_logits_
from rdpt_fast.head.types import TokenStats
from rdpt_fast.head.validation import IGNORE_INDEX, HeadInputs

DEFAULT_CHUNK_BYTES = 256 * 2**20
# On CPU the budget is an upper bound and chunks are further capped at this many rows: measured on a 2-core
# Xeon (N=2048, V=129280), 128-512 rows run at the same speed (the matmul is already efficient and every
# other pass is bandwidth-bound), so larger buffers would only cost memory.
CPU_MAX_CHUNK_ROWS = 256
# Low-precision weights are upcast to float32 in vocab slices of at most this many bytes (reused buffer).
_WEIGHT_SLICE_BYTES = 8 * 2**20


def chunk_rows(n_tokens: int, vocab: int, chunk_bytes: int, buffers: int, max_rows: int | None = None) -> int:
    """Rows per chunk so that ``buffers`` float32 [rows, V] buffers fit in chunk_bytes (at least 1 row, at
    most ``max_rows``); the N tokens are then split into equal chunks so that the last is not a sliver."""
    if chunk_bytes <= 0:
        raise ValueError(f"chunk_bytes must be positive, got {chunk_bytes}")
    rows = max(1, chunk_bytes // (vocab * 4 * buffers))
    if max_rows is not None:
        rows = min(rows, max_rows)
    if n_tokens <= rows:
        return max(n_tokens, 1)
    n_chunks = -(-n_tokens // rows)
    return -(-n_tokens // n_chunks)


class LogitsWriter:
    """Writes float32 logits h @ W.T for a chunk of hidden rows into a given buffer."""

    def __init__(self, weight: torch.Tensor) -> None:
        self.weight = weight
        self.low_precision = weight.dtype != torch.float32
        if self.low_precision:
            vocab, h_dim = weight.shape
            slice_rows = max(1, min(vocab, _WEIGHT_SLICE_BYTES // (4 * h_dim)))
            self.w32 = torch.empty(slice_rows, h_dim, dtype=torch.float32, device=weight.device)

    def __call__(self, hidden_chunk: torch.Tensor, out: torch.Tensor) -> None:
        if not self.low_precision:
            torch.matmul(hidden_chunk, self.weight.T, out=out)
            return
        # fp16/bf16: float32 products and float32 logits, without a full float32 copy of the weight.
        h32 = hidden_chunk.float()
        step = self.w32.shape[0]
        for v0 in range(0, self.weight.shape[0], step):
            w = self.w32[: min(step, self.weight.shape[0] - v0)]
            w.copy_(self.weight[v0 : v0 + w.shape[0]])
            torch.matmul(h32, w.T, out=out[:, v0 : v0 + w.shape[0]])


def torch_token_stats(
    inputs: HeadInputs, *, with_entropy: bool, with_top1: bool, chunk_bytes: int = DEFAULT_CHUNK_BYTES
) -> TokenStats:
    """Per-token log-probs (optionally entropy and top1) with O(chunk_bytes + N) extra memory.

    The float32 logits buffer(s) hold at most chunk_bytes (two buffers with entropy); on CPU also at most
    CPU_MAX_CHUNK_ROWS rows. fp16/bf16 inputs get float32 products via 8 MiB float32 weight slices.
    """
    n_tokens, vocab = inputs.num_tokens, inputs.vocab_size
    device = inputs.hidden.device
    max_rows = CPU_MAX_CHUNK_ROWS if device.type == "cpu" else None
    rows = chunk_rows(n_tokens, vocab, chunk_bytes, buffers=2 if with_entropy else 1, max_rows=max_rows)
    logprobs = torch.empty(n_tokens, dtype=torch.float32, device=device)
    entropy = torch.empty(n_tokens, dtype=torch.float32, device=device) if with_entropy else None
    top1 = torch.empty(n_tokens, dtype=torch.bool, device=device) if with_top1 else None
    if n_tokens == 0:
        return TokenStats(logprobs, entropy, top1)

    buf = torch.empty(rows, vocab, dtype=torch.float32, device=device)
    buf2 = torch.empty_like(buf) if with_entropy else None
    write_logits = LogitsWriter(inputs.weight)
    valid = inputs.targets != IGNORE_INDEX
    safe_targets = torch.where(valid, inputs.targets, 0)

    for start in range(0, n_tokens, rows):
        part = slice(start, min(start + rows, n_tokens))
        out = buf[: part.stop - start]
        write_logits(inputs.hidden[part], out)
        torch_epilogue_(
            out, rows_of(buf2, part.stop - start), inputs, safe_targets[part], valid[part], logprobs[part],
            entropy[part] if entropy is not None else None, top1[part] if top1 is not None else None,
        )  # fmt: skip
    return TokenStats(logprobs, entropy, top1)


def rows_of(buf: torch.Tensor | None, n: int) -> torch.Tensor | None:
    """The first n rows of a reusable buffer, or None."""
    return buf[:n] if buf is not None else None


def torch_epilogue_(
    out: torch.Tensor,
    scratch: torch.Tensor | None,
    inputs: HeadInputs,
    safe_targets: torch.Tensor,
    valid: torch.Tensor,
    logprobs: torch.Tensor,
    entropy: torch.Tensor | None,
    top1: torch.Tensor | None,
) -> None:
    """From raw float32 logits ``out`` [R, V] (overwritten) fill logprobs [R] (and entropy [R], top1 [R]).

    safe_targets [R] int64 in [0, V) (ignored rows point anywhere), valid [R] bool; ``scratch`` is an [R, V]
    float32 buffer, needed only for entropy."""
    transform_logits_(out, inputs.bias, inputs.logit_scale, inputs.softcap)
    torch.log_softmax(out, dim=1, out=out)  # in place: each row is read fully before it is written
    target_lp = out.gather(1, safe_targets[:, None])[:, 0]
    logprobs.copy_(torch.where(valid, target_lp, 0.0))
    if top1 is not None:
        top1.copy_(valid & (target_lp >= out.amax(dim=1)))
    if entropy is not None:
        assert scratch is not None
        p_logp = torch.exp(out, out=scratch).mul_(out)
        torch.sum(p_logp, dim=1, out=entropy).neg_()
