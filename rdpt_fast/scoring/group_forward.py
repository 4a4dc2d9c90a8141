"""Shared-prefix forward passes for several groups at once.

G groups, each a prefix of P_g tokens continued by its members' tails: one pass over the G prefixes
(right-padded rows, causal attention: a real token never sees the padding after it) fills a KV cache
of G rows; the cache rows are gathered so that each member gets its group's row; one pass over the M
tails (positions P_g, P_g + 1, ...) attends to the cache under a padding mask that hides each row's
cache positions [P_g, max P). Two forward calls for any number of groups. Whether this is exact for a
model (sliding windows count positions in the cache, not in the sequence) is what `check_group_forward`
tests against the model's own forward at load time.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from rdpt_fast.head.topk import topk_logprobs
from rdpt_fast.scoring.runner import Runner


def forward_groups(
    runner: Runner, prefixes: Sequence[np.ndarray], tails: Sequence[tuple[int, np.ndarray]]
) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """(hidden [P_g, H] per prefix, hidden [len(tail), H] per member) for prefixes (int64 token arrays)
    and members given as (group index, tail tokens; empty when the member is its prefix)."""
    device, base = runner.device, runner.base
    lengths = [len(p) for p in prefixes]
    width = max(lengths)
    ids = torch.zeros(len(prefixes), width, dtype=torch.long)
    for g, p in enumerate(prefixes):
        ids[g, : len(p)] = torch.from_numpy(p)
    pos = torch.arange(width)[None].expand(len(prefixes), -1)
    out = base(input_ids=ids.to(device), position_ids=pos.to(device), use_cache=True)
    hidden = out.last_hidden_state
    prefix_hidden = [hidden[g, :n] for g, n in enumerate(lengths)]
    live = [(m, g, t) for m, (g, t) in enumerate(tails) if len(t)]
    tail_hidden = [hidden[0, :0]] * len(tails)
    if not live:
        return prefix_hidden, tail_hidden
    cache = out["cache"] if "cache" in out else out["past_key_values"]
    cache.batch_select_indices(torch.tensor([g for _, g, _ in live], device=device))
    tail_width = max(len(t) for _, _, t in live)
    tail_ids = torch.zeros(len(live), tail_width, dtype=torch.long)
    tail_pos = torch.zeros(len(live), tail_width, dtype=torch.long)
    mask = torch.ones(len(live), width + tail_width, dtype=torch.long)
    for row, (_, g, t) in enumerate(live):
        tail_ids[row, : len(t)] = torch.from_numpy(t)
        tail_pos[row] = torch.arange(lengths[g], lengths[g] + tail_width)
        mask[row, lengths[g] : width] = 0  # the padding after this row's prefix, in the cache
    cont = base(
        input_ids=tail_ids.to(device),
        attention_mask=mask.to(device),
        position_ids=tail_pos.to(device),
        use_cache=True,
        **{runner.cache_kwarg: cache},
    ).last_hidden_state
    for row, (m, _, t) in enumerate(live):
        tail_hidden[m] = cont[row, : len(t)]
    return prefix_hidden, tail_hidden


def _logprobs(runner: Runner, hidden: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    """Log-probs of ids[1:] from hidden[:-1] through the model's head."""
    head = runner.head
    return topk_logprobs(hidden[:-1], head.weight, ids[1:], 1, bias=head.bias, logit_scale=head.logit_scale,
                         softcap=head.softcap).logprobs  # fmt: skip


@torch.inference_mode()
def check_group_forward(runner: Runner, max_abs: float) -> str | None:
    """None when `forward_groups` on a probe (two prefixes of different lengths, tails of different
    lengths, one empty) gives the token log-probs of the model's own forward within `max_abs` nats;
    else why not."""
    rng = np.random.default_rng(7)
    vocab = min(int(runner.head.weight.shape[0]), 32000)
    prefixes = [rng.integers(0, vocab, n, dtype=np.int64) for n in (11, 6)]
    tails = [(0, rng.integers(0, vocab, 5, dtype=np.int64)), (1, rng.integers(0, vocab, 9, dtype=np.int64)),
             (1, np.zeros(0, np.int64)), (0, rng.integers(0, vocab, 2, dtype=np.int64))]  # fmt: skip
    try:
        got_prefix, got_tails = forward_groups(runner, prefixes, tails)
    except Exception as e:  # any failure turns the path off, with the error as the reason
        return f"grouped prefix pass failed: {type(e).__name__}: {str(e)[:160]}"
    worst = 0.0
    for (g, t), got in zip(tails, got_tails):
        ids = torch.from_numpy(np.concatenate([prefixes[g], t])).to(runner.device)
        own = _logprobs(runner, runner.base(input_ids=ids[None]).last_hidden_state[0], ids)
        mine = _logprobs(runner, torch.cat([got_prefix[g], got]), ids)
        worst = max(worst, float((own - mine).abs().max()))
    if worst <= max_abs:
        return None
    return f"grouped prefix pass differs from the model's own forward by up to {worst:.3g} nats per token"
