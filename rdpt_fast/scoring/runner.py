"""Forward passes and head scoring for planned batches.

Every path ends the same way: for each trace, the final hidden states at positions
[first_scored - 1, L - 1) predict tokens [first_scored, L); they go, with every trace of the batch
concatenated, through one `rdpt_fast.head.segment_logprobs` call (sentence ids offset per trace).
"""

from __future__ import annotations

import inspect
import itertools
from dataclasses import dataclass

import numpy as np
import torch

from rdpt_fast.head import segment_logprobs
from rdpt_fast.scoring.batching import Batch, PackedBatch, SharedBatch
from rdpt_fast.scoring.model_head import HeadParams
from rdpt_fast.scoring.prepare import Prepared

FLASH_IMPLEMENTATIONS = ("flash_attention_2", "flash_attention_3", "kernels-community/flash-attn")


@dataclass
class TraceScores:
    """sum_logprob [S] float64 and num_tokens [S] int64 of one trace."""

    sum_logprob: np.ndarray
    num_tokens: np.ndarray


def is_oom(error: BaseException) -> bool:
    """True for an accelerator (or host) out-of-memory error."""
    oom_type = getattr(torch, "OutOfMemoryError", None) or torch.cuda.OutOfMemoryError
    return isinstance(error, (oom_type, MemoryError)) or (
        isinstance(error, RuntimeError) and "out of memory" in str(error)
    )


def _cache_kwarg(base: torch.nn.Module) -> str:
    params = inspect.signature(base.forward).parameters
    return "cache" if "cache" in params else "past_key_values"


#: Cache layers that only ever concatenate new keys/values onto the cached ones (never write into them):
#: a batch-1 cache of these is expanded as a view, copied once by that concatenation and not before.
CONCATENATING_LAYERS = ("DynamicLayer", "DynamicSlidingWindowLayer")


def expand_cache(cache: object, k: int) -> None:
    """Repeat a batch-1 cache K times along the batch, layer by layer: concatenating attention layers as
    views (no copy), other attention layers through their own `batch_repeat_interleave`, other layers
    (linear attention, convolution states) by repeating every batch-1 tensor they hold. Whether
    continuing such a cache is exact is for the self-check to confirm."""
    layers = getattr(cache, "layers", None)
    if layers is None:
        cache.batch_repeat_interleave(k)
        return
    for layer in layers:
        if type(layer).__name__ in CONCATENATING_LAYERS and getattr(layer, "keys", None) is not None:
            layer.keys = layer.keys.expand(k, *layer.keys.shape[1:])
            layer.values = layer.values.expand(k, *layer.values.shape[1:])
        elif hasattr(layer, "batch_repeat_interleave"):
            layer.batch_repeat_interleave(k)
        else:
            for name, value in vars(layer).items():
                setattr(layer, name, _repeat_batch(value, k))


def _repeat_batch(value: object, k: int) -> object:
    """`value` with every batch-1 tensor in it (also inside dicts, lists, tuples) repeated K times."""
    if isinstance(value, torch.Tensor):
        return value.repeat_interleave(k, dim=0) if value.dim() > 0 and value.shape[0] == 1 else value
    if isinstance(value, dict):
        return {key: _repeat_batch(v, k) for key, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_repeat_batch(v, k) for v in value)
    return value


def block_causal_mask(
    rows: list[list[int]], width: int, dtype: torch.dtype, device: torch.device
) -> torch.Tensor:
    """[B, 1, width, width] mask: position i of a row sees j <= i of the same trace only; padding sees itself.

    Lengths per row in `rows`. Boolean (True = attend) for dtype=torch.bool, else additive (0 / finfo.min).
    """
    trace_of = torch.full((len(rows), width), -1, dtype=torch.long)
    for r, lengths in enumerate(rows):
        pos = 0
        for t, n in enumerate(lengths):
            trace_of[r, pos : pos + n] = t
            pos += n
        trace_of[r, pos:] = torch.arange(len(lengths), len(lengths) + width - pos)  # each pad its own trace
    same = trace_of[:, :, None] == trace_of[:, None, :]
    causal = torch.ones(width, width, dtype=torch.bool).tril()
    allowed = (same & causal)[:, None].to(device)
    if dtype == torch.bool:
        return allowed
    zero = torch.zeros((), dtype=dtype, device=device)
    return torch.where(allowed, zero, torch.full((), torch.finfo(dtype).min, dtype=dtype, device=device))


class Runner:
    """Runs batches through one model's base and head. `attn` is the model's attention implementation."""

    def __init__(self, model: torch.nn.Module, base: torch.nn.Module, head: HeadParams, head_backend: str):
        self.model = model
        self.base = base
        self.head = head
        self.head_backend = head_backend
        self.device = head.weight.device
        self.cache_kwarg = _cache_kwarg(base)
        config = model.config
        self.attn = getattr(config, "_attn_implementation", None) or "eager"
        self.layer_types = set(getattr(config, "layer_types", None) or [])
        self.sliding_window = getattr(config, "sliding_window", None)
        #: How packed rows keep traces apart: "positions" (restarting position ids, no mask: the model
        #: builds its own per-layer masks, sliding windows included) or "mask" (a block-diagonal mask).
        self.pack_mode = "positions"

    # -- forward passes ---------------------------------------------------------------------------------
    def _mask_for(self, rows: list[list[int]], width: int) -> torch.Tensor | dict[str, torch.Tensor] | None:
        """The attention mask of a packed batch (None: positions alone separate the traces)."""
        if self.attn in FLASH_IMPLEMENTATIONS or self.pack_mode == "positions":
            return None  # the model finds packed sequences from the restarting position ids
        dtype = torch.bool if self.attn == "sdpa" else self.head.weight.dtype
        full = block_causal_mask(rows, width, dtype, self.device)
        if not self.sliding_window or (self.layer_types and "sliding_attention" not in self.layer_types):
            return full
        near = torch.ones(width, width, dtype=torch.bool, device=self.device).triu(1 - self.sliding_window)
        if dtype == torch.bool:
            sliding = full & near
        else:
            sliding = torch.where(
                near, full, torch.full((), torch.finfo(dtype).min, dtype=dtype, device=self.device)
            )
        if not self.layer_types:  # every layer slides (Mistral-style config without layer types)
            return sliding
        return {"full_attention": full, "sliding_attention": sliding}

    def forward_packed(self, batch: PackedBatch) -> list[torch.Tensor]:
        """Final hidden states [L, H] of every trace of the batch (in `batch.traces` order)."""
        width = batch.width
        ids = torch.zeros(len(batch.rows), width, dtype=torch.long)
        pos = torch.zeros(len(batch.rows), width, dtype=torch.long)
        for r, row in enumerate(batch.rows):
            at = 0
            for p in row:
                ids[r, at : at + p.length] = torch.from_numpy(p.input_ids)
                pos[r, at : at + p.length] = torch.arange(p.length)
                at += p.length
            pos[r, at:] = torch.arange(width - at) + (0 if batch.packed else at)
        # One trace per row: plain causal attention (right padding is never seen), the fast kernels' path.
        # Packed rows: a block-diagonal mask (or, for flash kernels, the restarting position ids).
        mask = (
            self._mask_for([[p.length for p in row] for row in batch.rows], width) if batch.packed else None
        )
        out = self.base(
            input_ids=ids.to(self.device),
            attention_mask=mask,
            position_ids=pos.to(self.device),
            use_cache=False,
        )
        hidden = out.last_hidden_state
        result = []
        for r, row in enumerate(batch.rows):
            at = 0
            for p in row:
                result.append(hidden[r, at : at + p.length])
                at += p.length
        return result

    def forward_shared(self, batch: SharedBatch) -> list[torch.Tensor]:
        """Hidden states [L - P + 1, H] per member: the prompt's last position, then the continuation's.

        The prompt (P tokens) runs once with a KV cache; the cache is copied along the batch and the K
        continuations (right-padded, positions P, P+1, ...) run on it with causal attention.
        """
        prefix = torch.from_numpy(batch.members[0].input_ids[: batch.prefix_length])[None].to(self.device)
        out = self.base(input_ids=prefix, use_cache=True)
        cache = out["cache"] if "cache" in out else out["past_key_values"]  # transformers 5 / 4 name
        prompt_last = out.last_hidden_state[0, -1:]
        k = len(batch.members)
        P = batch.prefix_length
        width = max(p.length - P for p in batch.members)
        ids = torch.zeros(k, width, dtype=torch.long)
        for i, p in enumerate(batch.members):
            ids[i, : p.length - P] = torch.from_numpy(p.input_ids[P:])
        expand_cache(cache, k)  # the prompt's cache is not needed afterwards: expanded in place
        pos = torch.arange(P, P + width)[None].expand(k, -1)
        out = self.base(
            input_ids=ids.to(self.device),
            attention_mask=None,  # causal over prompt + continuation; right padding is never seen
            position_ids=pos.to(self.device),
            use_cache=True,
            **{self.cache_kwarg: cache},
        )
        hidden = out.last_hidden_state
        return [torch.cat([prompt_last, hidden[i, : p.length - P]]) for i, p in enumerate(batch.members)]

    # -- head -------------------------------------------------------------------------------------------
    def score_hidden(self, traces: list[Prepared], tails: list[torch.Tensor]) -> list[TraceScores]:
        """Sentence scores from `tails[i]`: hidden states of positions [first_scored - 1, L - 1) (longer
        tails are cut) of `traces[i]`; one head call for the batch."""
        hidden, targets, segs, sizes = [], [], [], []
        offset = 0
        for p, tail in zip(traces, tails):
            first = p.first_scored
            n = p.length - first
            hidden.append(tail[:n])
            targets.append(torch.from_numpy(p.input_ids[first:]))
            s = torch.from_numpy(p.segment_ids[first:])
            segs.append(torch.where(s >= 0, s + offset, s))
            sizes.append(len(p.segments))
            offset += len(p.segments)
        scores = segment_logprobs(
            torch.cat(hidden),
            self.head.weight,
            torch.cat(targets).to(self.device),
            torch.cat(segs).to(self.device),
            offset,
            bias=self.head.bias,
            logit_scale=self.head.logit_scale,
            softcap=self.head.softcap,
            backend=self.head_backend,
        )
        sums = scores.sum_logprob.detach().to("cpu", torch.float64).numpy()
        counts = scores.num_tokens.detach().to("cpu", torch.int64).numpy()
        bounds = np.cumsum([0, *sizes])
        return [TraceScores(sums[a:b].copy(), counts[a:b].copy()) for a, b in itertools.pairwise(bounds)]

    @torch.inference_mode()
    def run(self, batch: Batch) -> list[TraceScores]:
        """Scores of `batch.traces`, in that order."""
        if isinstance(batch, SharedBatch):
            tails = self.forward_shared(batch)
            return self.score_hidden(batch.members, tails)
        traces = batch.traces
        full = self.forward_packed(batch)
        return self.score_hidden(traces, [h[p.first_scored - 1 :] for p, h in zip(traces, full)])

    @torch.inference_mode()
    def run_reference(self, p: Prepared) -> TraceScores:
        """The plain path: the whole model with full logits, log_softmax in float64, gather, sum."""
        ids = torch.from_numpy(p.input_ids)[None].to(self.device)
        logits = self.model(input_ids=ids).logits[0].to(torch.float64)
        logp = torch.log_softmax(logits[:-1], dim=-1).gather(1, ids[0, 1:, None])[:, 0].cpu().numpy()
        seg = p.segment_ids[1:]
        keep = seg >= 0
        keep[: p.first_scored - 1] = False
        n = len(p.segments)
        sums = np.bincount(seg[keep], weights=logp[keep], minlength=n).astype(np.float64)
        counts = np.bincount(seg[keep], minlength=n).astype(np.int64)
        return TraceScores(sums, counts)
