"""`Scorer`: per-sentence log-probs of records under one causal LM, one forward pass per trace."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rdpt_fast.scoring.batching import Batch, PackedBatch, SharedBatch, plan
from rdpt_fast.scoring.capabilities import Capabilities, architecture_name, static_capabilities
from rdpt_fast.scoring.config import ScorerConfig
from rdpt_fast.scoring.costs import ForwardCosts
from rdpt_fast.scoring.loading import SHARDED, load_model, resolve_device, resolve_dtype
from rdpt_fast.scoring.model_head import base_model, head_params
from rdpt_fast.scoring.precomputed import reduce_precomputed
from rdpt_fast.scoring.prepare import (
    KNOWN_FIELDS,
    Prepared,
    RecordProblem,
    check_record,
    prepare,
    record_segments,
)
from rdpt_fast.scoring.runner import Runner, TraceScores, is_oom
from rdpt_fast.scoring.self_check import run_self_check
from rdpt_fast.scoring.templates import PromptRenderer, TemplateError
from rdpt_fast.scoring.types import ScoredRecord, ScoreStats


class Scorer:
    """Scores the sentences of records under one causal LM.

    model: a local directory / hub id, an already loaded transformers causal LM, or None (then only records
        carrying precomputed log-probs under `name` can be scored; `tokenizer` is required).
    tokenizer: a fast (Rust) tokenizer; loaded from `model` when it is a path. Slow tokenizers are refused.
    device: "auto", "cpu", "cuda:N", or `loading.SHARDED` (the model spread over every visible GPU).
    name: the model's name, matched against a record's `logprobs_model` to use precomputed log-probs.
    config / options: a `ScorerConfig`, and options that override its fields (`Scorer(path, template=None)`);
        see `ScorerConfig` for each. With `self_check`, each fast path is compared with the model's own
        forward on a short probe at load time and the paths that differ are turned off (`capabilities` says
        which and why); ModelCheckError when even the plain path differs. Paths that cannot be exact for
        the architecture (packing through recurrent layers) are off whatever this says.
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any = None,
        *,
        device: str | torch.device = "auto",
        name: str | None = None,
        config: ScorerConfig | None = None,
        **options: Any,
    ):
        self.config = cfg = ScorerConfig.build(config, **options)
        self.device = torch.device("cuda") if str(device) == SHARDED else resolve_device(device)
        if isinstance(model, (str, Path)):
            if name is None:
                name = Path(str(model)).name or str(model)
            loaded, loaded_tok = load_model(model, device=device, **cfg.load_options())
            model, tokenizer = loaded, tokenizer or loaded_tok
            if str(device) == SHARDED:
                self.device = next(model.parameters()).device
        elif model is not None:
            if cfg.dtype != "auto":
                model = model.to(resolve_dtype(cfg.dtype, self.device))
            if str(device) != "auto":
                model = model.to(self.device)
            else:
                self.device = next(model.parameters()).device
            model.eval()
            if cfg.attn_implementation != "auto" and hasattr(model, "set_attn_implementation"):
                model.set_attn_implementation(cfg.attn_implementation)
        if tokenizer is None:
            raise ValueError("a tokenizer is needed when the model is given as an object or None")
        if not getattr(tokenizer, "is_fast", False):
            raise ValueError(
                f"{type(tokenizer).__name__} is a slow tokenizer; rdpt-fast needs a fast (Rust) tokenizer "
                "for token offsets (load it with use_fast=True or convert it)"
            )
        self.model = model
        self.tokenizer = tokenizer
        self.name = name or getattr(getattr(model, "config", None), "_name_or_path", None) or "model"
        self.renderer = PromptRenderer(tokenizer, cfg.template)
        self.segment_options = dict(cfg.segment_options)
        self.stats = ScoreStats()
        self.max_length: int | None = None
        self.runner: Runner | None = None
        self.forward_costs: ForwardCosts | None = None
        self.capabilities = Capabilities()
        if model is not None:
            context = getattr(model.config, "max_position_embeddings", None)
            self.max_length = context if isinstance(context, int) and context > 0 else None
            base = base_model(model)
            self.runner = Runner(model, base, head_params(model), cfg.head_backend)
            self.forward_costs = ForwardCosts.for_model(model, base)
            self.capabilities = static_capabilities(model, base)
            if cfg.self_check and cfg.mode == "fast":
                run_self_check(model, self.runner, self.capabilities, architecture_name(model))
            self.runner.pack_mode = self.capabilities.pack_mode
        if cfg.max_length is not None and (self.max_length is None or cfg.max_length < self.max_length):
            self.max_length = cfg.max_length
        self.stats.paths = self.capabilities.describe()

    # -- public -----------------------------------------------------------------------------------------
    def score(self, records: Iterable[Mapping[str, Any]]) -> Iterator[ScoredRecord]:
        """A ScoredRecord per record, in input order. Bad records get `error` set; the stream goes on.

        Records are dicts: id, prompt (string or chat messages), response, optional segments
        ({starts, ends, kinds}) and optional token_ids + logprobs with logprobs_model == this scorer's name.
        """
        it = iter(records)
        start = 0
        with ThreadPoolExecutor(max_workers=1) as pool:  # prepares the next window while this one runs
            window = self.config.window
            pending: Future | None = pool.submit(self._prepare_window, list(islice(it, window)), start)
            while pending is not None:
                results, count = pending.result()
                if count == 0:
                    break
                start += count
                nxt = list(islice(it, window))
                pending = pool.submit(self._prepare_window, nxt, start) if nxt else None
                yield from self._finish_window(results)

    def score_one(self, record: Mapping[str, Any]) -> ScoredRecord:
        return next(iter(self.score([record])))

    # -- internals --------------------------------------------------------------------------------------
    def _uses_precomputed(self, fields: Mapping[str, Any]) -> bool:
        return fields.get("logprobs_model") == self.name and "token_ids" in fields and "logprobs" in fields

    def _prepare_one(self, fields: Mapping[str, Any], index: int) -> Prepared | ScoredRecord:
        fallback = f"record {index}"
        if not isinstance(fields, Mapping):
            return ScoredRecord.failed(fallback, f"a record must be a mapping, got {type(fields).__name__}")
        fields = dict(fields)
        try:
            if self._uses_precomputed(fields):
                return self._precomputed(fields, fallback)
            if self.runner is None:
                raise RecordProblem(f"no precomputed log-probs under {self.name!r} and no model to run")
            return prepare(
                index, fields, fallback, self.tokenizer, self.renderer, self.segment_options, self.max_length
            )
        except (RecordProblem, TemplateError, ValueError, TypeError) as e:
            rid = fields.get("id")
            extra = {k: v for k, v in fields.items() if k not in KNOWN_FIELDS}
            return ScoredRecord.failed(fallback if rid is None else str(rid), str(e), extra)

    def _precomputed(self, fields: dict[str, Any], fallback: str) -> ScoredRecord:
        rid, _, response = check_record(fields, fallback)
        segs = record_segments(fields, response, self.segment_options)
        sums, counts = reduce_precomputed(
            self.tokenizer, response, segs, fields["token_ids"], fields["logprobs"]
        )
        extra = {k: v for k, v in fields.items() if k not in KNOWN_FIELDS}
        return ScoredRecord(
            rid,
            segs,
            sums,
            counts,
            num_response_tokens=len(fields["token_ids"]),
            source="precomputed",
            fields=extra,
        )

    def _prepare_window(self, records: list[Any], start: int) -> tuple[list[Prepared | ScoredRecord], int]:
        return [self._prepare_one(r, start + i) for i, r in enumerate(records)], len(records)

    def _finish_window(self, items: list[Prepared | ScoredRecord]) -> Iterator[ScoredRecord]:
        t0 = time.perf_counter()
        prepared = [p for p in items if isinstance(p, Prepared)]
        done: dict[int, ScoredRecord] = {}
        cfg = self.config
        if cfg.mode == "reference":
            for p in prepared:
                self._run_guarded(PackedBatch([[p]]), done, reference=True)
        else:
            caps = self.capabilities
            for batch in plan(
                prepared,
                cfg.max_tokens_per_batch if caps.batch else 1,  # a budget of 1 token: one trace per batch
                share=cfg.share_prompts if caps.share else False,
                pack=cfg.pack and caps.pack and caps.batch,
                pack_width=cfg.pack_width,
                costs=self.forward_costs,
            ):
                self._run_guarded(batch, done, reference=False)
        out = [done[item.index] if isinstance(item, Prepared) else item for item in items]
        for result in out:
            self.stats.records += 1
            if result.error is not None:
                self.stats.errors += 1
            else:
                self.stats.scored += 1
                self.stats.precomputed += result.source == "precomputed"
        self.stats.seconds += time.perf_counter() - t0
        return iter(out)

    def _run_guarded(self, batch: Batch, done: dict[int, ScoredRecord], *, reference: bool) -> None:
        """Run a batch; on out-of-memory split it and retry; a single trace that does not fit is an error."""
        try:
            if reference:
                scores = [self.runner.run_reference(p) for p in batch.traces]
            else:
                scores = self.runner.run(batch)
        except Exception as e:
            if not is_oom(e):
                raise
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
            if len(batch.traces) == 1 and not isinstance(batch, SharedBatch):
                p = batch.traces[0]
                done[p.index] = ScoredRecord.failed(
                    p.record_id, f"out of memory for a single trace of {p.length} tokens ({e})", p.fields
                )
                return
            self.stats.oom_splits += 1
            for part in batch.split():
                self._run_guarded(part, done, reference=reference)
            return
        self._account(batch, scores, done)

    def _account(self, batch: Batch, scores: list[TraceScores], done: dict[int, ScoredRecord]) -> None:
        shared = isinstance(batch, SharedBatch)
        self.stats.batches += 1
        traces = batch.traces
        if shared:
            self.stats.shared_groups += 1
            forwarded = batch.prefix_length + sum(p.length - batch.prefix_length for p in traces)
            padded = len(traces) * max(p.length - batch.prefix_length for p in traces) - (
                forwarded - batch.prefix_length
            )
        else:
            self.stats.packed_batches += batch.packed
            forwarded = sum(p.length for p in traces)
            padded = len(batch.rows) * batch.width - forwarded
        self.stats.forwarded_tokens += forwarded
        self.stats.padded_tokens += padded
        for p, s in zip(traces, scores):
            self.stats.scored_tokens += p.length
            done[p.index] = ScoredRecord(
                p.record_id,
                p.segments,
                s.sum_logprob.astype(np.float64),
                s.num_tokens.astype(np.int64),
                num_prompt_tokens=p.num_prefix,
                num_response_tokens=p.length - p.num_prefix,
                prompt_shared=shared,
                source="model",
                fields=p.fields,
            )
