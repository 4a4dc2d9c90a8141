"""Target log-prob plus the top-k tokens per position, without materializing [N, V] logits.

What a completions server returns per position (`logprobs: k`): log p(target) and the k most likely
tokens with their log-probs. The "tiled" backend streams the vocabulary in tiles (as `torch_tiled`):
per tile one matmul into a reused float32 buffer, an online log-sum-exp, the target's logit gathered
from the tile that holds it, and a running top-k merged with the tile's own top-k. The "reference"
backend builds the full float32 logits (tests, and the plain path a user can select).

Both backends take every reported value from the same float32 logits minus the same log-sum-exp, so
a target that is the argmax has exactly the top-1's log-prob (clients compare them with `==`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from rdpt_fast.head.logits import transform_logits_
from rdpt_fast.head.torch_tiled import DEFAULT_TILE_BYTES, tile_shape
from rdpt_fast.head.validation import IGNORE_INDEX, HeadInputs, validate_head_inputs

TOPK_BACKENDS = ("tiled", "reference")


@dataclass(frozen=True)
class TopK:
    """Per position, all on the input device.

    logprobs [N] float32: log p(target), 0.0 where the target is -100.
    top_ids [N, k] int64 and top_logprobs [N, k] float32: the k most likely tokens, most likely first.
    """

    logprobs: torch.Tensor
    top_ids: torch.Tensor
    top_logprobs: torch.Tensor


def _reference(inputs: HeadInputs, k: int) -> TopK:
    logits = inputs.hidden.float() @ inputs.weight.float().T
    transform_logits_(logits, inputs.bias, inputs.logit_scale, inputs.softcap)
    logp = torch.log_softmax(logits, dim=-1)
    valid = inputs.targets != IGNORE_INDEX
    target = logp.gather(1, torch.where(valid, inputs.targets, 0)[:, None])[:, 0]
    values, ids = logp.topk(k, dim=-1)
    return TopK(torch.where(valid, target, 0.0), ids, values)


def _tiled(inputs: HeadInputs, k: int, tile_bytes: int) -> TopK:
    n_tokens, device = inputs.num_tokens, inputs.hidden.device
    vocab = inputs.vocab_size
    logprobs = torch.zeros(n_tokens, dtype=torch.float32, device=device)
    top_ids = torch.zeros(n_tokens, k, dtype=torch.int64, device=device)
    top_values = torch.zeros(n_tokens, k, dtype=torch.float32, device=device)
    if n_tokens == 0:
        return TopK(logprobs, top_ids, top_values)
    block, columns = tile_shape(n_tokens, vocab, tile_bytes, hidden_size=inputs.hidden.shape[1])
    columns = max(columns, k)
    buffer = torch.empty(block, columns, dtype=torch.float32, device=device)
    valid = inputs.targets != IGNORE_INDEX
    targets = torch.where(valid, inputs.targets, 0)
    for start in range(0, n_tokens, block):
        part = slice(start, min(start + block, n_tokens))
        h = inputs.hidden[part].float()
        rows = h.shape[0]
        lse = torch.full((rows,), float("-inf"), dtype=torch.float32, device=device)
        target_logit = torch.zeros(rows, dtype=torch.float32, device=device)
        best_values = torch.full((rows, 0), float("-inf"), dtype=torch.float32, device=device)
        best_ids = torch.zeros(rows, 0, dtype=torch.int64, device=device)
        for v0 in range(0, vocab, columns):
            v1 = min(v0 + columns, vocab)
            tile = buffer[:rows, : v1 - v0]
            torch.matmul(h, inputs.weight[v0:v1].float().T, out=tile)
            transform_logits_(tile, inputs.bias[v0:v1] if inputs.bias is not None else None,
                              inputs.logit_scale, inputs.softcap)  # fmt: skip
            lse = torch.logaddexp(lse, torch.logsumexp(tile, dim=1))
            inside = (targets[part] >= v0) & (targets[part] < v1)
            local = torch.where(inside, targets[part] - v0, 0)
            target_logit = torch.where(inside, tile.gather(1, local[:, None])[:, 0], target_logit)
            values, ids = tile.topk(min(k, v1 - v0), dim=1)
            merged_values = torch.cat([best_values, values], dim=1)
            merged_ids = torch.cat([best_ids, ids + v0], dim=1)
            best_values, order = merged_values.topk(min(k, merged_values.shape[1]), dim=1)
            best_ids = merged_ids.gather(1, order)
        logprobs[part] = torch.where(valid[part], target_logit - lse, 0.0)
        top_values[part] = best_values - lse[:, None]
        top_ids[part] = best_ids
    return TopK(logprobs, top_ids, top_values)


def topk_logprobs(
    hidden: torch.Tensor,
    weight: torch.Tensor,
    targets: torch.Tensor,
    k: int,
    *,
    bias: torch.Tensor | None = None,
    logit_scale: float = 1.0,
    softcap: float | None = None,
    backend: str = "tiled",
    tile_bytes: int = DEFAULT_TILE_BYTES,
) -> TopK:
    """log p(target) and the top-k tokens of every position (see `TopK`).

    hidden [N, H] and weight [V, H] share a float dtype and device; targets [N] in [0, V) or -100;
    1 <= k <= V. The logit transform (bias, scale, softcap) is the head API's. Raises ValueError on bad
    inputs or an unknown backend ("tiled" or "reference").
    """
    inputs = validate_head_inputs(
        hidden, weight, targets, bias=bias, logit_scale=logit_scale, softcap=softcap
    )
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= inputs.vocab_size:
        raise ValueError(f"k must be an int in [1, {inputs.vocab_size}], got {k!r}")
    if backend == "reference":
        return _reference(inputs, k)
    if backend == "tiled":
        return _tiled(inputs, k, tile_bytes)
    raise ValueError(f"unknown top-k backend {backend!r}; choose one of {', '.join(TOPK_BACKENDS)}")
