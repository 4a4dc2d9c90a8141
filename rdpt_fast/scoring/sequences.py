"""Token-level scoring of plain token sequences: what a completions server and an eval harness ask for.

For each sequence: log p(token t | tokens < t) for every t >= 1, the top-k tokens at every position,
whether each token was the greedy choice, and optionally the greedy next token. Fast mode runs
sequences sharing a prefix (when the cost model says it pays) as prefix passes continued on their KV
caches, many groups per forward call (`group_forward`), the rest as right-padded rows, and takes
everything from final hidden states through the vocab-tiled top-k head (no [N, V] logits).
Reference mode is the plain path: each sequence alone through the whole model, log_softmax of its
logits in float64. Fast paths the model's self-check does not confirm are turned off.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rdpt_fast.head.topk import topk_logprobs
from rdpt_fast.head.validation import IGNORE_INDEX
from rdpt_fast.scoring.batching import PackedBatch
from rdpt_fast.scoring.capabilities import Capabilities, architecture_name, static_capabilities
from rdpt_fast.scoring.costs import ForwardCosts
from rdpt_fast.scoring.group_forward import check_group_forward, forward_groups
from rdpt_fast.scoring.loading import load_model
from rdpt_fast.scoring.model_head import base_model, head_params
from rdpt_fast.scoring.prefix_groups import PrefixGroup, group_batches, plan_groups, row_batches
from rdpt_fast.scoring.prepare import Prepared
from rdpt_fast.scoring.runner import Runner
from rdpt_fast.scoring.self_check import Tolerance, run_self_check
from rdpt_fast.segments import Segments

MODES = ("fast", "reference")


@dataclass(frozen=True)
class SequenceRequest:
    """Tokens to score (at least one); `top_k` >= 1 entries per position; `next_token`: also predict
    the token after the last one (a greedy one-token completion)."""

    ids: Sequence[int]
    top_k: int = 1
    next_token: bool = False


@dataclass
class SequenceScores:
    """Scores of one sequence of L tokens; position p predicts token p + 1 (position L - 1, present
    with `next_token`, predicts the token after the sequence).

    logprobs [L-1] float32: log p(ids[t] | ids[:t]) for t = 1 .. L-1. greedy [L-1] bool: ids[t] had the
    highest log-prob (ties count). top_ids [P, k] int64 and top_logprobs [P, k] float32 for the P
    positions (L - 1, or L with next_token), most likely first.
    """

    logprobs: np.ndarray
    greedy: np.ndarray
    top_ids: np.ndarray
    top_logprobs: np.ndarray


@dataclass
class ForwardStats:
    """Work done so far: model calls, token positions fed to the model (padding included), sequences."""

    forward_passes: int = 0
    tokens_forwarded: int = 0
    sequences: int = 0
    paths: dict[str, Any] = field(default_factory=dict)


def _as_prepared(index: int, ids: np.ndarray) -> Prepared:
    """A sequence as the Runner's row batches take it (no sentences: only the forward pass is used)."""
    empty = Segments(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.uint8))
    return Prepared(index, str(index), {}, "", empty, ids, np.full(len(ids), -1, np.int64), 0)


class SequenceScorer:
    """Scores token sequences under one causal LM (see the module docstring).

    model/tokenizer: a loaded Hugging Face causal LM (eval mode) and its tokenizer. mode: "fast" or
    "reference". max_batch_tokens: budget of one forward pass (rows x padded width). head_backend:
    "tiled" or "reference" (full logits) for the fast mode's head. share: run a common prefix once
    "auto" (when the cost model says it pays), True (whenever the path is on) or False. self_check:
    confirm the batched and shared paths against the model's own forward at load time (off paths are
    not used).
    """

    def __init__(
        self,
        model: torch.nn.Module,
        tokenizer: Any,
        *,
        mode: str = "fast",
        max_batch_tokens: int = 4096,
        head_backend: str = "tiled",
        share: bool | str = "auto",
        self_check: bool = True,
    ):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        if share not in (True, False, "auto"):
            raise ValueError(f"share must be True, False or 'auto', got {share!r}")
        if max_batch_tokens < 1:
            raise ValueError(f"max_batch_tokens must be positive, got {max_batch_tokens}")
        self.model, self.tokenizer, self.mode = model, tokenizer, mode
        self.max_batch_tokens = max_batch_tokens
        self.head_backend = head_backend
        self.share = share
        context = getattr(model.config, "max_position_embeddings", None)
        self.max_length: int | None = context if isinstance(context, int) and context > 0 else None
        base = base_model(model)
        self.runner = Runner(model, base, head_params(model), "auto")
        self.costs = ForwardCosts.for_model(model, base)
        self.vocab_size = int(self.runner.head.weight.shape[0])
        self.capabilities = static_capabilities(model, base) if mode == "fast" else Capabilities()
        if mode == "fast" and self_check:
            run_self_check(model, self.runner, self.capabilities, architecture_name(model))
            tolerance = Tolerance.for_dtype(self.runner.head.weight.dtype).max_abs
            if self.capabilities.share and (why := check_group_forward(self.runner, tolerance)):
                self.capabilities.turn_off("share", why)
        self.stats = ForwardStats(paths=self.capabilities.describe())

    @classmethod
    def load(
        cls,
        path: str | Path,
        *,
        device: str = "auto",
        dtype: str = "auto",
        attn_implementation: str = "auto",
        trust_remote_code: bool = False,
        **options: Any,
    ) -> SequenceScorer:
        """Load the model and tokenizer at `path` (safetensors) and build a scorer (options as __init__)."""
        model, tokenizer = load_model(
            path,
            device=device,
            dtype=dtype,
            attn_implementation=attn_implementation,
            trust_remote_code=trust_remote_code,
        )
        return cls(model, tokenizer, **options)

    # -- public -----------------------------------------------------------------------------------------
    @torch.inference_mode()
    def score(self, requests: Sequence[SequenceRequest]) -> list[SequenceScores]:
        """Scores of `requests`, in order. Raises ValueError for an empty sequence, a token id outside the
        vocabulary or top_k outside [1, V]."""
        for r in requests:
            self._check(r)
        self.stats.sequences += len(requests)
        if not requests:
            return []
        k = max(r.top_k for r in requests)
        inputs = [np.asarray(r.ids if r.next_token else r.ids[:-1], dtype=np.int64) for r in requests]
        targets = [self._targets(r, len(x)) for r, x in zip(requests, inputs)]
        if self.mode == "reference":
            return [self._reference(x, t, k, r.top_k) for x, t, r in zip(inputs, targets, requests)]
        hidden, head_targets, rows = self._forward(inputs, targets)
        if not hidden:  # nothing to predict: single tokens without a next token
            hidden, head_targets = [self.runner.head.weight[:0]], [torch.zeros(0, dtype=torch.int64)]
        top = topk_logprobs(
            torch.cat(hidden), self.runner.head.weight, torch.cat(head_targets).to(self.runner.device), k,
            bias=self.runner.head.bias, logit_scale=self.runner.head.logit_scale,
            softcap=self.runner.head.softcap, backend=self.head_backend,
        )  # fmt: skip
        logprobs, top_ids, top_values = (t.cpu() for t in (top.logprobs, top.top_ids, top.top_logprobs))
        out = []
        for r, idx in zip(requests, rows):
            n = len(r.ids) - 1
            lp, values = logprobs[idx].numpy(), top_values[idx].numpy()
            greedy = lp[:n] >= values[:n, 0]
            out.append(
                SequenceScores(lp[:n], greedy, top_ids[idx][:, : r.top_k].numpy(), values[:, : r.top_k])
            )
        return out

    # -- internals --------------------------------------------------------------------------------------
    def _check(self, r: SequenceRequest) -> None:
        if len(r.ids) == 0:
            raise ValueError("a sequence to score needs at least one token")
        if not 1 <= r.top_k <= self.vocab_size:
            raise ValueError(f"top_k must be in [1, {self.vocab_size}], got {r.top_k}")
        ids = np.asarray(r.ids)
        if ids.min() < 0 or ids.max() >= self.vocab_size:
            raise ValueError(
                f"token ids must be in [0, {self.vocab_size}), got {int(ids.min())}..{int(ids.max())}"
            )

    @staticmethod
    def _targets(r: SequenceRequest, n_positions: int) -> torch.Tensor:
        """[n_positions] int64: the token each position predicts, -100 for the one after the sequence."""
        t = torch.full((n_positions,), IGNORE_INDEX, dtype=torch.int64)
        t[: len(r.ids) - 1] = torch.as_tensor(np.asarray(r.ids[1:], dtype=np.int64))
        return t

    def _reference(self, x: np.ndarray, t: torch.Tensor, k: int, top_k: int) -> SequenceScores:
        """The plain path: one sequence through the whole model, log_softmax(logits) in float64."""
        n = int((t != IGNORE_INDEX).sum())
        self._count(1, len(x))
        if len(x) == 0:
            empty = np.zeros((0, top_k))
            return SequenceScores(np.zeros(0, np.float32), np.zeros(0, bool), empty.astype(np.int64),
                                  empty.astype(np.float32))  # fmt: skip
        ids = torch.from_numpy(x)[None].to(self.runner.device)
        logp = torch.log_softmax(self.model(input_ids=ids).logits[0].to(torch.float64), dim=-1).cpu()
        values, top_ids = logp.topk(k, dim=-1)
        target = logp[:n].gather(1, t[:n, None])[:, 0]
        greedy = (target >= values[:n, 0]).numpy()
        return SequenceScores(target.float().numpy(), greedy, top_ids[:, :top_k].numpy(),
                              values[:, :top_k].float().numpy())  # fmt: skip

    def _sharing_pays(self, prefix: int, lengths: list[int]) -> bool:
        """The cost model's verdict (see `rdpt_fast.scoring.costs`): the tokens a group saves beat its
        prefix pass and the cache copies (the extra forward call is shared by every group of a batch)."""
        tails = [n - prefix for n in lengths]
        return self.share is True or self.costs.chunk_gain(prefix, tails) + self.costs.call_seconds > 0

    def _count(self, passes: int, tokens: int) -> None:
        self.stats.forward_passes += passes
        self.stats.tokens_forwarded += tokens

    def _forward(
        self, inputs: list[np.ndarray], targets: list[torch.Tensor]
    ) -> tuple[list[torch.Tensor], list[torch.Tensor], list[torch.Tensor]]:
        """(hidden pieces, their targets, per sequence the rows of the concatenated pieces it owns)."""
        caps, budget = self.capabilities, self.max_batch_tokens
        lengths = [len(x) for x in inputs]
        groups, alone = plan_groups(inputs, share=caps.share and self.share is not False)
        worth = [g for g in groups if self._sharing_pays(g.prefix_length, [lengths[i] for i in g.members])]
        alone = sorted([*alone, *(i for g in groups if g not in worth for i in g.members)])
        groups = worth
        hidden: list[torch.Tensor] = []
        head_targets: list[torch.Tensor] = []
        rows: list[torch.Tensor] = [torch.zeros(0, dtype=torch.int64)] * len(inputs)
        offset = 0

        def add(piece: torch.Tensor, piece_targets: torch.Tensor) -> torch.Tensor:
            nonlocal offset
            hidden.append(piece)
            head_targets.append(piece_targets)
            offset += piece.shape[0]
            return torch.arange(offset - piece.shape[0], offset)

        batches = row_batches(lengths, [i for i in alone if lengths[i]], budget) if caps.batch else [
            [i] for i in alone if lengths[i]
        ]  # fmt: skip
        for batch in batches:
            states = self.runner.forward_packed(PackedBatch([[_as_prepared(i, inputs[i])] for i in batch]))
            self._count(1, len(batch) * max(lengths[i] for i in batch))
            for i, h in zip(batch, states):
                rows[i] = add(h, targets[i])
        for chunk in group_batches(groups, lengths, budget):
            self._forward_groups(inputs, chunk, targets, rows, add)
        return hidden, head_targets, rows

    def _forward_groups(
        self,
        inputs: list[np.ndarray],
        groups: list[PrefixGroup],
        targets: list[torch.Tensor],
        rows: list[torch.Tensor],
        add: Any,
    ) -> None:
        """Two forward calls for `groups` (see `group_forward`); each prefix's positions [0, P-1) go to
        the head once; fills `rows` of every member."""  # fmt: skip
        prefixes = [inputs[g.members[0]][: g.prefix_length] for g in groups]
        members = [(j, i) for j, g in enumerate(groups) for i in g.members]
        tails = [(j, inputs[i][groups[j].prefix_length :]) for j, i in members]
        prefix_hidden, tail_hidden = forward_groups(self.runner, prefixes, tails)
        live = [len(t) for _, t in tails if len(t)]
        self._count(1 + bool(live), len(groups) * max(map(len, prefixes)) + len(live) * max(live, default=0))
        shared = [add(h[: g.prefix_length - 1], targets[g.members[0]][: g.prefix_length - 1])
                  for g, h in zip(groups, prefix_hidden)]  # fmt: skip
        for (j, i), tail in zip(members, tail_hidden):
            P = groups[j].prefix_length
            own = add(torch.cat([prefix_hidden[j][P - 1 :], tail]), targets[i][P - 1 :])
            rows[i] = torch.cat([shared[j], own])
