"""Vocab-tiled torch head (the CPU engine): large token blocks, vocabulary tiles, an online log-sum-exp.

The weight is read once per block of up to `BLOCK_ROWS` tokens (not once per small chunk): for each vocab
tile, one matmul writes float32 logits [block, columns] into a reused buffer that stays within
`tile_bytes` (the tile and both matmul operands sized to stay in cache, see `tile_shape`), and one fused
`logsumexp` pass over it updates a running log-sum-exp per token (log p = target logit - lse); the
target's logit is taken from the tile that holds it. Entropy keeps a running max m, the rescaled sum of
exp(l - m) and of exp(l - m) * l; top-1 compares the target logit with the running max. Extra memory:
the tile buffers (at most `tile_bytes` in all) plus O(block) per token, never [N, V].
"""

from __future__ import annotations

import torch

from rdpt_fast.head.logits import transform_logits_
from rdpt_fast.head.types import TokenStats
from rdpt_fast.head.validation import IGNORE_INDEX, HeadInputs

#: Most tokens per block: the weight is streamed once per block.
BLOCK_ROWS = 1024
#: Bytes of the float32 logits tile [block, columns] (halved per buffer with entropy): the pass over it that
#: follows the matmul reads from cache.
DEFAULT_TILE_BYTES = 2 * 2**20
#: Bytes of each matmul operand, the block's float32 hidden rows [block, H] and the weight tile
#: [columns, H]: both stay cache-resident while the tile is computed, so a wide H narrows the tile.
#: Chosen by measurement (2-core AMD EPYC, 32 MiB L3, float32, V=151936, N=2048, time / bare GEMM):
#: H=896: 1024x512 0.89, 1024x1024 0.90, 2048x512 1.17; H=3584: 512x512 0.85, 1024x512 0.91,
#: 1024x1024 1.12, 2048x512 1.12 (rows x columns; the earlier 4 MiB logits-only rule gave 2048x512).
OPERAND_BYTES = 8 * 2**20
#: Narrowest vocab tile (columns): below it the matmul loses efficiency.
MIN_TILE_COLUMNS = 512


def tile_shape(
    n_tokens: int, vocab: int, tile_bytes: int, block_rows: int = BLOCK_ROWS, hidden_size: int = 1
) -> tuple[int, int]:
    """(block rows, vocab columns) of a float32 logits tile within `tile_bytes`. Rows: as many as the
    budget allows at `MIN_TILE_COLUMNS` columns, at most `block_rows` and `OPERAND_BYTES` of hidden rows
    (split evenly over the N tokens); columns: as many as fit, at most `OPERAND_BYTES` of weight rows (a
    multiple of 64 when there are that many)."""
    operand_rows = max(MIN_TILE_COLUMNS // 2, OPERAND_BYTES // (4 * hidden_size))
    block = max(1, min(n_tokens, block_rows, operand_rows, tile_bytes // (4 * MIN_TILE_COLUMNS)))
    block = -(-n_tokens // -(-n_tokens // block))  # equal blocks, no sliver at the end
    columns = min(vocab, max(1, tile_bytes // (4 * block)), max(MIN_TILE_COLUMNS, operand_rows))
    return block, columns // 64 * 64 if columns >= 64 else columns


def _block_stats(
    h: torch.Tensor,
    inputs: HeadInputs,
    targets: torch.Tensor,
    buffers: tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None],
    with_top1: bool,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
    """(log-sum-exp, target logit, max logit or None, entropy or None), each [B], for one block.

    h [B, H] float32; targets [B] in [0, V) (ignored rows point anywhere). buffers: the logits tile, a
    float32 weight-slice buffer (low-precision weights, else None), an entropy scratch tile (or None:
    no entropy). Without entropy each tile costs one fused `logsumexp` pass (plus `amax` for top-1)."""
    weight, vocab = inputs.weight, inputs.weight.shape[0]
    logits_buf, w32_buf, scratch_buf = buffers
    rows, step = h.shape[0], logits_buf.shape[1]
    zeros = torch.zeros(rows, dtype=torch.float32, device=h.device)
    m = torch.full_like(zeros, float("-inf"))  # running max (entropy) or running log-sum-exp
    s = zeros.clone()  # sum of exp(l - m) (entropy only)
    weighted = zeros.clone() if scratch_buf is not None else None
    top = torch.full_like(m, float("-inf")) if with_top1 else None
    target_logit = zeros
    for v0 in range(0, vocab, step):
        v1 = min(v0 + step, vocab)
        tile = logits_buf[:rows, : v1 - v0]
        w = weight[v0:v1] if w32_buf is None else w32_buf[: v1 - v0].copy_(weight[v0:v1])
        torch.matmul(h, w.T, out=tile)
        bias = inputs.bias[v0:v1] if inputs.bias is not None else None
        transform_logits_(tile, bias, inputs.logit_scale, inputs.softcap)
        inside = (targets >= v0) & (targets < v1)
        local = torch.where(inside, targets - v0, 0)
        target_logit = torch.where(inside, tile.gather(1, local[:, None])[:, 0], target_logit)
        if top is not None:
            top = torch.maximum(top, tile.amax(dim=1))
        if weighted is None:
            m = torch.logaddexp(m, torch.logsumexp(tile, dim=1))
            continue
        m_new = torch.maximum(m, tile.amax(dim=1))
        rescale = torch.exp(m - m_new)
        ex = torch.sub(tile, m_new[:, None], out=scratch_buf[:rows, : v1 - v0]).exp_()
        s = s * rescale + ex.sum(dim=1)
        weighted = weighted * rescale + ex.mul_(tile).sum(dim=1)
        m = m_new
    if weighted is None:
        return m, target_logit, top, None
    lse = m + torch.log(s)
    return lse, target_logit, top, lse - weighted / s


def tiled_token_stats(
    inputs: HeadInputs,
    *,
    with_entropy: bool = False,
    with_top1: bool = False,
    tile_bytes: int = DEFAULT_TILE_BYTES,
    block_rows: int = BLOCK_ROWS,
) -> TokenStats:
    """Per-token log-probs (and entropy, top-1) of `inputs`, vocab-tiled; see the module docstring."""
    if tile_bytes <= 0 or block_rows <= 0:
        raise ValueError(
            f"chunk_bytes (tile_bytes) and block_rows must be positive, got {tile_bytes}, {block_rows}"
        )
    n_tokens, device = inputs.num_tokens, inputs.hidden.device
    vocab, h_dim = inputs.weight.shape
    logprobs = torch.zeros(n_tokens, dtype=torch.float32, device=device)
    entropy = torch.empty(n_tokens, dtype=torch.float32, device=device) if with_entropy else None
    top1 = torch.zeros(n_tokens, dtype=torch.bool, device=device) if with_top1 else None
    if n_tokens == 0:
        return TokenStats(logprobs, entropy, top1)
    block, columns = tile_shape(
        n_tokens, vocab, tile_bytes // (2 if with_entropy else 1), block_rows, hidden_size=h_dim
    )
    logits_buf = torch.empty(block, columns, dtype=torch.float32, device=device)
    scratch = torch.empty_like(logits_buf) if with_entropy else None
    low_precision = inputs.weight.dtype != torch.float32
    w32 = torch.empty(columns, h_dim, dtype=torch.float32, device=device) if low_precision else None
    valid = inputs.targets != IGNORE_INDEX
    safe_targets = torch.where(valid, inputs.targets, 0)
    for start in range(0, n_tokens, block):
        part = slice(start, min(start + block, n_tokens))
        h = inputs.hidden[part].float()
        lse, target_logit, top, ent = _block_stats(
            h, inputs, safe_targets[part], (logits_buf, w32, scratch), with_top1
        )
        logprobs[part] = torch.where(valid[part], target_logit - lse, 0.0)
        if top1 is not None:
            top1[part] = valid[part] & (target_logit >= top)
        if entropy is not None:
            entropy[part] = ent
    return TokenStats(logprobs, entropy, top1)
