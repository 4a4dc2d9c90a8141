"""One RDPT run over a corpus, shared by `trace` and `select`: the models' passes, the join, the labels,
the rejects and `run.json`.

Passes: each model scores the valid stream chunk by chunk (`role_scores`); one model is loaded at a time,
or one per device when several devices are given (then the passes run in parallel threads). The join pass
reads the input once more, joins the models' shards of each chunk and writes the sentences and records
shards. With beta "auto", beta is chosen from the d_TS histogram of all joined sentences and the shards
are relabelled. Every stage is resumable: completed shards are listed in the manifest and skipped.
"""

from __future__ import annotations

import datetime as _dt
import gc
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from rdpt_fast.progress import Progress
from rdpt_fast.rdpt.adaptive import AdaptiveBeta, abs_dts_histogram, adaptive_beta
from rdpt_fast.rdpt.inputs import count_lines, expand_inputs, fingerprint, iter_chunks
from rdpt_fast.rdpt.join import (
    Scheme,
    apply_labels,
    count_fields,
    join_chunk,
    record_problem,
    reject_row,
    with_counts,
)
from rdpt_fast.rdpt.labels import DEFAULT_ALPHA, DEFAULT_BETA
from rdpt_fast.rdpt.role_scores import RoleRun, score_role, scores_stage
from rdpt_fast.rdpt.store import JOIN, RunFolder, read_json, write_json
from rdpt_fast.records import RecordError
from rdpt_fast.writers import open_rows

PRECOMPUTED_KEYS = ("token_ids", "logprobs", "logprobs_model")
#: Settings that change the scores: a folder written with other values is not resumed.
SCORING_KEYS = ("kind", "inputs", "models", "dtype", "template", "segment_options", "chunk_records", "mode")
#: Settings that change what the join writes besides the labels: other values redo the join.
JOIN_KEYS = ("text",)
DEFAULT_CHUNK_RECORDS = 1000

Beta = float | str  # a number in [0, 1] or "auto"


@dataclass
class ModelSource:
    """Where one role's scores come from.

    model: a model directory or hub id, or a ready `Scorer` (its own settings are used), or None for
        precomputed log-probs only. tokenizer: the tokenizer's directory when `model` is None.
    logprobs_field / token_ids_field: record fields holding the response's token ids and their log-probs
        under this model (e.g. from the sampling engine); records without them cannot be scored.
    """

    model: Any
    tokenizer: str | Path | None = None
    logprobs_field: str | None = None
    token_ids_field: str = "token_ids"

    def __post_init__(self) -> None:
        if self.model is None and (self.tokenizer is None or self.logprobs_field is None):
            raise ValueError("a role without a model needs a tokenizer and a logprobs field")

    def describe(self) -> dict[str, Any]:
        model = self.model
        if model is not None and not isinstance(model, (str, Path)):
            model = f"<{type(model).__name__} {getattr(model, 'name', '')}>"
        return {
            "model": None if model is None else str(model),
            "tokenizer": None if self.tokenizer is None else str(self.tokenizer),
            "logprobs_field": self.logprobs_field,
            "token_ids_field": self.token_ids_field if self.logprobs_field else None,
        }


def as_source(value: Any) -> ModelSource:
    return value if isinstance(value, ModelSource) else ModelSource(value)


@dataclass
class RunOptions:
    """Settings of a run (see `trace` for their meaning)."""

    alpha: float = DEFAULT_ALPHA
    beta: Beta = DEFAULT_BETA
    devices: Sequence[str] = ("auto",)
    dtype: str = "auto"
    template: str | None = "auto"
    attn_implementation: str = "auto"
    max_tokens_per_batch: int = 16384
    head_backend: str = "auto"
    mode: str = "fast"
    trust_remote_code: bool = False
    self_check: bool = True
    segment_options: Mapping[str, Any] = field(default_factory=dict)
    chunk_records: int = DEFAULT_CHUNK_RECORDS
    text: bool = False
    include_markers: bool = False
    overwrite: bool = False
    quiet: bool = False
    command: Sequence[str] | None = None
    #: "local" (this process) or "ray" (a Ray cluster: rdpt_fast.distributed); the other three are Ray's.
    executor: str = "local"
    ray_address: str | None = None
    num_workers: int | None = None
    gpus_per_worker: float | None = None

    def scorer_kwargs(self) -> dict[str, Any]:
        """The `Scorer` keywords of these options (all but the device)."""
        return {
            "dtype": self.dtype,
            "template": self.template,
            "attn_implementation": self.attn_implementation,
            "max_tokens_per_batch": self.max_tokens_per_batch,
            "head_backend": self.head_backend,
            "mode": self.mode,
            "trust_remote_code": self.trust_remote_code,
            "self_check": self.self_check,
            "segment_options": self.segment_options,
        }

    def check(self) -> None:
        if not (0.0 <= self.alpha <= 1.0):
            raise ValueError(f"alpha must lie in [0, 1], got {self.alpha}")
        if self.beta != "auto" and not (isinstance(self.beta, (int, float)) and 0.0 <= self.beta <= 1.0):
            raise ValueError(f"beta must be 'auto' or lie in [0, 1], got {self.beta!r}")
        if self.chunk_records < 1:
            raise ValueError(f"chunk_records must be positive, got {self.chunk_records}")
        if not self.devices:
            raise ValueError("give at least one device")
        if self.executor not in ("local", "ray"):
            raise ValueError(f"executor must be 'local' or 'ray', got {self.executor!r}")
        ray_only = (self.ray_address, self.num_workers, self.gpus_per_worker)
        if self.executor == "local" and any(v is not None for v in ray_only):
            raise ValueError("ray_address, num_workers and gpus_per_worker need executor='ray'")


@dataclass
class RunResult:
    """What a run produced: the folder, the thresholds used and the totals over the whole folder."""

    output: Path
    kind: str
    alpha: float
    beta: float
    adaptive: AdaptiveBeta | None
    records: int
    sentences: int
    rejected: int
    label_counts: dict[str, int]
    seconds: float
    passes: dict[str, dict[str, Any]]

    @property
    def label_shares(self) -> dict[str, float]:
        """Share of each label among labelled sentences (markers and unscored excluded)."""
        labelled = sum(v for k, v in self.label_counts.items() if k != "unscored")
        return {k: v / labelled if labelled else 0.0 for k, v in self.label_counts.items() if k != "unscored"}


def release_memory() -> None:
    """Free a model that was just dropped (host memory, and the CUDA cache on a GPU)."""
    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


#: transformers' loading is not thread-safe (global init flags: a tied head can come out "missing"), so
#: passes on several devices load their models one at a time and then run in parallel.
_LOAD_LOCK = threading.Lock()


def build_scorer(source: ModelSource, role: str, device: str, options: RunOptions) -> tuple[Any, Callable]:
    """The role's `Scorer` and the view of a record it should score."""
    with _LOAD_LOCK:
        return _build_scorer(source, role, device, options)


def _build_scorer(source: ModelSource, role: str, device: str, options: RunOptions) -> tuple[Any, Callable]:
    from rdpt_fast.scoring import Scorer

    if isinstance(source.model, Scorer):
        scorer = source.model
    elif source.model is None:
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(
            str(source.tokenizer), trust_remote_code=options.trust_remote_code
        )
        scorer = Scorer(None, tok, name=role, segment_options=options.segment_options)
    else:
        scorer = Scorer(source.model, device=device, **options.scorer_kwargs())

    if source.logprobs_field is None:

        def view(fields: dict[str, Any]) -> dict[str, Any]:
            # a model role always runs its model: drop precomputed log-probs the record may carry
            return {k: v for k, v in fields.items() if k not in PRECOMPUTED_KEYS}

    else:
        lp_field, ids_field = source.logprobs_field, source.token_ids_field

        def view(fields: dict[str, Any]) -> dict[str, Any]:
            out = {k: v for k, v in fields.items() if k not in PRECOMPUTED_KEYS}
            if fields.get(lp_field) is not None and fields.get(ids_field) is not None:
                out.update(token_ids=fields[ids_field], logprobs=fields[lp_field], logprobs_model=scorer.name)
            return out

    return scorer, view


def parse_devices(devices: str | Sequence[str]) -> list[str]:
    """ "auto", "cpu", "cuda:0,cuda:1" or a list of device names."""
    items = devices.split(",") if isinstance(devices, str) else list(devices)
    items = [d.strip() for d in items if d.strip()]
    if not items:
        raise ValueError("give at least one device")
    return items


class Run:
    """A run in progress; `execute` does everything and returns the `RunResult`."""

    def __init__(
        self,
        scheme: Scheme,
        sources: Mapping[str, ModelSource],
        inputs: Sequence[str | Path],
        output: str | Path,
        options: RunOptions,
        *,
        required: Sequence[str] = (),
        extra_settings: Mapping[str, Any] | None = None,
    ):
        options.check()
        if set(sources) != set(scheme.roles):
            raise ValueError(f"a {scheme.kind} run needs the models {', '.join(scheme.roles)}")
        self.scheme = scheme
        self.sources = {role: sources[role] for role in scheme.roles}
        self.paths = expand_inputs(inputs)
        self.options = options
        self.required = tuple(required)
        self.folder = RunFolder(output)
        self.extra_settings = dict(extra_settings or {})
        self.passes: dict[str, dict[str, Any]] = {}
        self.t0 = time.perf_counter()

    # -- settings ---------------------------------------------------------------------------------------
    def settings(self) -> dict[str, Any]:
        o = self.options
        return {
            "kind": self.scheme.kind,
            "inputs": fingerprint(self.paths),
            "models": {role: src.describe() for role, src in self.sources.items()},
            "dtype": o.dtype,
            "template": o.template,
            "segment_options": {k: str(v) for k, v in o.segment_options.items()},
            "chunk_records": o.chunk_records,
            "mode": o.mode,
            "alpha": o.alpha,
            "beta": o.beta,
            "text": o.text,
            "include_markers": o.include_markers,
            **self.extra_settings,
        }

    # -- stages -----------------------------------------------------------------------------------------
    def execute(self) -> RunResult:
        from rdpt_fast import __version__

        folder = self.folder
        settings = self.settings()
        folder.open(
            settings, scoring_keys=SCORING_KEYS, join_keys=JOIN_KEYS, overwrite=self.options.overwrite
        )
        before = read_json(folder.run_json) if folder.run_json.exists() else {}
        self.models = before.get("models", {})  # what each model pass loaded, kept across resumes
        info = {
            "kind": self.scheme.kind,
            "version": __version__,
            "created": before.get("created") or _now(),
            "command": list(self.options.command) if self.options.command else None,
            "settings": settings,
            "models": self.models,
            "complete": False,
        }
        write_json(folder.run_json, info)
        self.total = None if self.options.quiet else (self._known_total() or count_lines(self.paths))
        if self.options.executor == "ray":
            from rdpt_fast.distributed.run_passes import ray_model_passes

            ray_model_passes(self, self._roles_todo())
        else:
            self._model_passes()
        rejects, join_seconds = self._join_pass()
        adaptive = None
        beta = self.options.beta
        if beta == "auto":
            adaptive = adaptive_beta(counts=dts_histogram(folder, self.options.include_markers))
            beta = adaptive.beta
        relabelled = relabel_folder(
            folder, self.scheme, self.options.alpha, beta, self.options.include_markers
        )
        with open_rows(folder.rejects) as w:
            w.write(rejects)
        totals = folder_totals(folder, self.scheme)
        seconds = time.perf_counter() - self.t0
        info.update(
            alpha=self.options.alpha,
            beta=beta,
            beta_mode="auto" if adaptive else "fixed",
            adaptive=adaptive.to_dict() if adaptive else None,
            timings={
                "passes": self.passes,
                "join_seconds": join_seconds,
                "relabelled_chunks": relabelled,
                "total_seconds": seconds,
            },
            counts={**totals, "rejected": len(rejects)},
            updated=_now(),
            complete=True,
        )
        write_json(folder.run_json, info)
        return RunResult(
            folder.root,
            self.scheme.kind,
            self.options.alpha,
            float(beta),
            adaptive,
            totals["records"],
            totals["sentences"],
            len(rejects),
            totals["labels"],
            seconds,
            self.passes,
        )

    def _known_total(self) -> int | None:
        n = self.folder.num_chunks
        if n is None:
            return None
        entries = self.folder.manifest["stages"].get(scores_stage(self.scheme.roles[0]), {})
        if len(entries) != n:
            return None
        return sum(e.get("records", 0) for e in entries.values())

    def _roles_todo(self) -> list[str]:
        n = self.folder.num_chunks
        if n is None:
            return list(self.scheme.roles)
        return [r for r in self.scheme.roles if not set(range(n)) <= self.folder.done(scores_stage(r))]

    def _model_passes(self) -> None:
        todo = self._roles_todo()
        devices = parse_devices(self.options.devices)
        if len(devices) == 1 or len(todo) <= 1:
            for role in todo:
                self._model_pass(role, devices[0], parallel=False)
            return
        with ThreadPoolExecutor(max_workers=min(len(devices), len(todo))) as pool:
            futures = [
                pool.submit(self._model_pass, role, devices[i % len(devices)], parallel=True)
                for i, role in enumerate(todo)
            ]
            for f in futures:
                f.result()

    def _model_pass(self, role: str, device: str, *, parallel: bool) -> None:
        scorer, view = build_scorer(self.sources[role], role, device, self.options)
        label = f"{self.scheme.kind} {role} ({scorer.name})"
        progress = Progress(label, self.total, quiet=self.options.quiet, tty=None if not parallel else False)
        chunks = _Counted(iter_chunks(self.paths, self.options.chunk_records, required=self.required))
        run: RoleRun = score_role(self.folder, role, scorer, chunks, view=view, progress=progress)
        self.folder.set_num_chunks(chunks.count)
        progress.close()
        self.passes[role] = {**run.to_dict(), "device": str(scorer.device)}
        self.models[role] = {
            "name": scorer.name,
            "source": "precomputed" if self.sources[role].logprobs_field else "model",
            **self.sources[role].describe(),
            "dtype": str(next(scorer.model.parameters()).dtype) if scorer.model is not None else None,
            "attn_implementation": getattr(
                getattr(scorer.model, "config", None), "_attn_implementation", None
            ),
            "paths": scorer.stats.paths,
        }
        del scorer
        release_memory()

    def _join_pass(self) -> tuple[list[dict[str, Any]], float]:
        """Join every chunk not yet joined; returns all rejects of the run and the seconds spent."""
        t0 = time.perf_counter()
        folder, scheme, o = self.folder, self.scheme, self.options
        input_rejects: list[RecordError] = []
        rejects: list[dict[str, Any]] = []
        done = folder.done(JOIN)
        beta = DEFAULT_BETA if o.beta == "auto" else float(o.beta)
        progress = Progress(f"{scheme.kind} join", self.total, quiet=o.quiet)
        drop = [s.logprobs_field for s in self.sources.values() if s.logprobs_field]
        drop += [s.token_ids_field for s in self.sources.values() if s.logprobs_field]
        for chunk in iter_chunks(self.paths, o.chunk_records, input_rejects, required=self.required):
            scores = {role: read_scores(folder.scores_path(role, chunk.index)) for role in scheme.roles}
            if chunk.index in done:
                for fields, location in zip(chunk.records, chunk.locations):
                    rid = str(fields["id"])
                    problem = record_problem({role: scores[role].get(rid) for role in scheme.roles})
                    if problem is not None:
                        rejects.append(reject_row(location, rid, *problem))
            else:
                joined = join_chunk(
                    chunk,
                    scores,
                    scheme,
                    alpha=o.alpha,
                    beta=beta,
                    text=o.text,
                    include_markers=o.include_markers,
                    drop_fields=drop,
                )
                rejects += joined.rejects
                paths = write_tables(folder, chunk.index, joined.sentences, joined.records)
                folder.mark(
                    JOIN,
                    chunk.index,
                    paths,
                    alpha=o.alpha,
                    beta=beta,
                    include_markers=o.include_markers,
                    sentences=joined.sentences.num_rows,
                )
            progress.update(len(chunk.records))
        progress.close()
        input_rows = [reject_row(e.location, e.record_id, "input", e.message, e.field) for e in input_rejects]
        return input_rows + rejects, time.perf_counter() - t0


class _Counted:
    """An iterator of chunks that counts them (the number of chunks is known once it is exhausted)."""

    def __init__(self, it):
        self.it = iter(it)
        self.count = 0

    def __iter__(self):
        for chunk in self.it:
            self.count += 1
            yield chunk


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def read_scores(path: Path) -> dict[str, dict[str, Any]]:
    """A role's score shard as {record id: row}; empty when the shard does not exist."""
    if not path.exists():
        return {}
    return {row["id"]: row for row in pq.read_table(path).to_pylist()}


def write_tables(folder: RunFolder, chunk: int, sentences: pa.Table, records: pa.Table) -> list[Path]:
    """Write chunk `chunk` of the sentences and records tables (each atomically)."""
    paths = [folder.sentences_path(chunk), folder.records_path(chunk)]
    for path, table in zip(paths, (sentences, records)):
        with open_rows(path, table.schema) as w:
            w.write_table(table)
    return paths


def joined_chunks(folder: RunFolder) -> list[int]:
    return sorted(folder.done(JOIN))


def dts_histogram(folder: RunFolder, include_markers: bool) -> np.ndarray:
    """|d_TS| histogram over every joined sentence (markers excluded unless `include_markers`)."""
    total = np.zeros(0, dtype=np.int64)
    for chunk in joined_chunks(folder):
        table = pq.read_table(folder.sentences_path(chunk), columns=["d_ts", "kind"])
        d_ts = table.column("d_ts").to_numpy(zero_copy_only=False).astype(np.float64)
        if not include_markers:
            d_ts = d_ts[np.asarray(table.column("kind").to_pylist(), dtype=object) != "marker"]
        counts = abs_dts_histogram(d_ts)
        total = counts if total.size == 0 else total + counts
    if total.size == 0 or total.sum() == 0:
        raise ValueError(f"{folder.root}: no scored sentence, so beta cannot be chosen adaptively")
    return total


def relabel_folder(
    folder: RunFolder, scheme: Scheme, alpha: float, beta: float, include_markers: bool
) -> int:
    """Relabel every joined chunk whose labels were made with other thresholds; returns how many."""
    count_names = [name for name, _ in count_fields(scheme)]
    changed = 0
    for chunk in joined_chunks(folder):
        entry = folder.entry(JOIN, chunk)
        if entry["alpha"] == alpha and entry["beta"] == beta and entry["include_markers"] == include_markers:
            continue
        sentences = apply_labels(pq.read_table(folder.sentences_path(chunk)), scheme, alpha=alpha, beta=beta)
        records = pq.read_table(folder.records_path(chunk)).drop_columns(count_names)
        records = with_counts(records, sentences, scheme, include_markers=include_markers)
        paths = write_tables(folder, chunk, sentences, records)
        kept = {k: v for k, v in entry.items() if k not in ("files", "stage", "chunk")}
        folder.mark(
            JOIN, chunk, paths, **{**kept, "alpha": alpha, "beta": beta, "include_markers": include_markers}
        )
        changed += 1
    return changed


def folder_totals(folder: RunFolder, scheme: Scheme) -> dict[str, Any]:
    """Records, sentences and label counts (markers excluded unless counted) over the folder."""
    labels = {name: 0 for name in scheme.labels}
    records = sentences = 0
    for chunk in joined_chunks(folder):
        table = pq.read_table(
            folder.records_path(chunk), columns=["num_sentences"] + [f"n_{n}" for n in labels]
        )
        records += table.num_rows
        sentences += int(np.asarray(table.column("num_sentences")).sum()) if table.num_rows else 0
        for name in labels:
            labels[name] += int(np.asarray(table.column(f"n_{name}")).sum()) if table.num_rows else 0
    return {"records": records, "sentences": sentences, "labels": labels}


def load_run(output: str | Path) -> tuple[RunFolder, dict[str, Any], Scheme]:
    """An existing, complete run folder: (folder, run.json, scheme); ValueError when it is not one."""
    from rdpt_fast.rdpt.join import SCHEMES

    folder = RunFolder(output)
    if not folder.run_json.exists() or not folder.journal.exists():
        raise ValueError(f"{folder.root}: not a trace or select folder (no run.json / manifest.jsonl)")
    info = read_json(folder.run_json)
    if not info.get("complete"):
        raise ValueError(f"{folder.root}: the run is not complete; rerun its command to finish it")
    folder.load()
    return folder, info, SCHEMES[info["kind"]]


def classify_folder(
    output: str | Path,
    *,
    alpha: float | None = None,
    beta: Beta | None = None,
    include_markers: bool | None = None,
) -> RunResult:
    """Relabel a complete trace or select folder with other thresholds, in place, without any model.
    Unset arguments keep the folder's values. The folder is locked meanwhile."""
    folder, info, scheme = load_run(output)
    folder.acquire()
    try:
        return _relabel_run(folder, info, scheme, alpha, beta, include_markers)
    finally:
        folder.release()


def _relabel_run(
    folder: RunFolder,
    info: dict[str, Any],
    scheme: Scheme,
    alpha: float | None,
    beta: Beta | None,
    include_markers: bool | None,
) -> RunResult:
    t0 = time.perf_counter()
    settings = info["settings"]
    alpha = settings["alpha"] if alpha is None else alpha
    beta = settings["beta"] if beta is None else beta
    include_markers = settings["include_markers"] if include_markers is None else include_markers
    RunOptions(alpha=alpha, beta=beta).check()
    adaptive = adaptive_beta(counts=dts_histogram(folder, include_markers)) if beta == "auto" else None
    beta_value = adaptive.beta if adaptive else float(beta)
    relabel_folder(folder, scheme, alpha, beta_value, include_markers)
    totals = folder_totals(folder, scheme)
    settings.update(alpha=alpha, beta=beta, include_markers=include_markers)
    info.update(
        alpha=alpha,
        beta=beta_value,
        beta_mode="auto" if adaptive else "fixed",
        adaptive=adaptive.to_dict() if adaptive else None,
        counts={**totals, "rejected": info.get("counts", {}).get("rejected", 0)},
        updated=_now(),
    )
    write_json(folder.run_json, info)
    return RunResult(
        folder.root,
        scheme.kind,
        alpha,
        beta_value,
        adaptive,
        totals["records"],
        totals["sentences"],
        info["counts"]["rejected"],
        totals["labels"],
        time.perf_counter() - t0,
        {},
    )


def print_summary(result: RunResult, stream=sys.stderr) -> None:
    """A few lines for the terminal: thresholds, totals and label shares."""
    shares = ", ".join(f"{k} {100 * v:.1f}%" for k, v in result.label_shares.items())
    print(
        f"rdpt-fast {result.kind}: {result.records} records, {result.sentences} sentences, "
        f"{result.rejected} rejected; "
        f"{f'alpha {result.alpha:g}, ' if result.kind == 'trace' else ''}beta {result.beta:g}"
        f"{' (adaptive)' if result.adaptive else ''}",
        file=stream,
    )
    print(
        f"rdpt-fast {result.kind}: labels {shares} (unscored {result.label_counts['unscored']})", file=stream
    )
    print(f"rdpt-fast {result.kind}: output in {result.output}", file=stream)
