"""What `rdpt-fast report` counts: one streaming pass over a trace or select folder (docs/outputs.md).

Only the needed columns of `sentences/` are read, BATCH_ROWS rows at a time, and everything kept is
additive (counts per position bin, a d_TS histogram, per-record label counts merged by id), so memory
grows with the number of records, not of sentences. Counted sentences are those that are not markers
(all of them with `include_markers`). Among them `unscored` is a category of its own: label shares are
fractions of the scored sentences (as share_<label> in records/), the unscored share is a fraction of
all counted sentences. Labels are the stored `label` column, or recomputed from the `<role>_prob`
columns (labels.classify / classify_selection) when a threshold is given; nothing is written back.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from rdpt_fast.engine.folder import RUN_JSON, SENTENCES
from rdpt_fast.engine.schemes import SCHEMES, Scheme
from rdpt_fast.rdpt.adaptive import DEFAULT_BINS, AdaptiveBeta, abs_dts_histogram, adaptive_beta
from rdpt_fast.rdpt.labels import label_codes
from rdpt_fast.rdpt.ranking import QUESTIONS

#: The kinds of run with labels, which the report reads.
LABELLED = tuple(kind for kind, scheme in SCHEMES.items() if scheme.labelled)
BATCH_ROWS = 1 << 18
DTS_BINS = 40  # on [-1, 1]: width 0.05, so the default thresholds 0.1 fall on bin edges
SHARE_EDGES = np.linspace(0.0, 1.0, 11)
GROUPS = ("all", "correct", "incorrect")  # axis 0 of Counts.positions


@dataclass(frozen=True)
class Settings:
    """What the report counts and where its labels and thresholds come from."""

    scheme: Scheme
    alpha: float | None  # trace only
    beta: float
    beta_from: str  # "run.json", "given" or "adaptive" (--beta auto)
    relabel: bool  # labels recomputed from the probabilities (else the stored `label` column)
    include_markers: bool
    position_bins: int
    adaptive: dict[str, Any] | None  # an AdaptiveBeta.to_dict() curve to show
    adaptive_source: str  # "run.json" or "this report" (--beta auto)

    @property
    def kind(self) -> str:
        return self.scheme.kind

    @property
    def labels(self) -> tuple[str, ...]:
        return self.scheme.labels

    @property
    def roles(self) -> tuple[str, ...]:
        return self.scheme.roles

    @property
    def scored_labels(self) -> list[str]:
        return [name for name in self.labels if name != "unscored"]


@dataclass(frozen=True)
class Counts:
    """Everything the report shows, accumulated over all sentence shards."""

    n_sentences: int  # rows of sentences/, markers included
    n_markers_excluded: int
    positions: np.ndarray  # (len(GROUPS), bins, labels): counted sentences per group, position bin, label
    dts: np.ndarray  # (DTS_BINS,): counted sentences with a d_TS, per bin on [-1, 1]
    record_correct: pa.Array  # bool (null = unknown), one per record
    record_counts: np.ndarray  # (records, labels): counted sentences per label
    chosen: np.ndarray | None  # select: the record was selected; None without questions.parquet

    @property
    def has_correct(self) -> bool:
        """Some record has a `correct` value."""
        return self.record_correct.null_count < len(self.record_correct)


def read_run(folder: Path) -> dict[str, Any]:
    """run.json of a trace or select folder; FileNotFoundError / ValueError naming what is missing."""
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder")
    run_path = folder / RUN_JSON
    if not run_path.is_file():
        raise ValueError(f"{folder}: run.json is missing (not an output folder of rdpt-fast trace or select)")
    if not (folder / SENTENCES).is_dir():
        raise ValueError(f"{folder}: the sentences/ table is missing")
    try:
        run = json.loads(run_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ValueError(f"{run_path}: not valid JSON ({e})") from None
    if not isinstance(run, dict) or run.get("kind") not in LABELLED:
        kind = run.get("kind") if isinstance(run, dict) else None
        raise ValueError(
            f"{run_path}: kind must be one of {', '.join(LABELLED)} (a folder with labels), got {kind!r}"
        )
    return run


def _run_threshold(run: dict[str, Any], name: str, folder: Path) -> float:
    """The threshold a run labelled with: run.json's top-level value (written when the run completes),
    else the adaptive curve's beta, else the value in its settings (an unfinished run)."""
    candidates = [run.get(name), (run.get("settings") or {}).get(name)]
    if name == "beta":
        candidates.insert(1, (run.get("adaptive") or {}).get("beta"))
    for value in candidates:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    raise ValueError(f"{folder / 'run.json'}: no numeric {name!r}; pass --{name}")


def _given_threshold(name: str, value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must lie in [0, 1] (a difference of probabilities), got {value}")
    return float(value)


def settings_for(
    folder: Path,
    run: dict[str, Any],
    *,
    alpha: float | None,
    beta: float | str | None,
    include_markers: bool,
    position_bins: int,
) -> Settings:
    """Thresholds and labels of the report: the run's, or relabelled with the given ones (a threshold
    not given is the run's); beta="auto" runs adaptive.adaptive_beta on |d_TS| of the counted sentences
    (one extra pass reading kind and d_ts)."""
    scheme = SCHEMES[run["kind"]]
    kind = scheme.kind
    if position_bins < 1:
        raise ValueError(f"position bins must be at least 1, got {position_bins}")
    if kind == "select" and alpha is not None:
        raise ValueError("alpha does not apply to a select folder (its labels use beta only)")
    the_alpha = None
    if kind == "trace":
        the_alpha = (
            _run_threshold(run, "alpha", folder) if alpha is None else _given_threshold("alpha", alpha)
        )
    curve, source, beta_from = run.get("adaptive"), "run.json", "given"
    if beta == "auto":
        curve, source, beta_from = _auto_beta(folder, include_markers).to_dict(), "this report", "adaptive"
        the_beta = float(curve["beta"])
    elif beta is None:
        the_beta, beta_from = _run_threshold(run, "beta", folder), "run.json"
    elif isinstance(beta, str):
        raise ValueError(f"beta must be a number or 'auto', got {beta!r}")
    else:
        the_beta = _given_threshold("beta", beta)
    if not (isinstance(curve, dict) and "thresholds" in curve and "objective" in curve):
        curve = None
    return Settings(
        scheme=scheme,
        alpha=the_alpha,
        beta=the_beta,
        beta_from=beta_from,
        relabel=alpha is not None or beta is not None,
        include_markers=include_markers,
        position_bins=position_bins,
        adaptive=curve,
        adaptive_source=source,
    )


def _batches(folder: Path, columns: list[str]) -> Iterator[tuple[Path, pa.RecordBatch]]:
    for path in sorted((folder / SENTENCES).glob("part-*.parquet")):
        shard = pq.ParquetFile(path)
        missing = [c for c in columns if c not in shard.schema_arrow.names]
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(missing)} (see docs/outputs.md)")
        for batch in shard.iter_batches(batch_size=BATCH_ROWS, columns=columns):
            yield path, batch


def _floats(batch: pa.RecordBatch, name: str) -> np.ndarray:
    """A float column as numpy, NaN where null."""
    return pc.cast(batch.column(name), pa.float64()).to_numpy(zero_copy_only=False)


def is_value(column: pa.Array, value: Any) -> np.ndarray:
    """Boolean mask column == value, False where null."""
    return pc.fill_null(pc.equal(column, value), False).to_numpy(zero_copy_only=False)


def _counted(batch: pa.RecordBatch, include_markers: bool) -> np.ndarray:
    if include_markers:
        return np.ones(batch.num_rows, dtype=bool)
    return ~is_value(batch.column("kind"), "marker")


def _auto_beta(folder: Path, include_markers: bool) -> AdaptiveBeta:
    counts = np.zeros(DEFAULT_BINS, dtype=np.int64)
    for _, batch in _batches(folder, ["kind", "d_ts"]):
        counts += abs_dts_histogram(_floats(batch, "d_ts")[_counted(batch, include_markers)])
    return adaptive_beta(counts=counts)


def _label_codes(batch: pa.RecordBatch, s: Settings) -> np.ndarray:
    if s.relabel:
        probs = {role: _floats(batch, f"{role}_prob") for role in s.roles}
        return s.scheme.label(probs, s.alpha or 0.0, s.beta)
    column = batch.column("label")
    names = pc.unique(column)
    codes = label_codes(names.to_pylist(), s.labels)  # ValueError naming an unknown label
    return codes[pc.index_in(column, value_set=names).to_numpy(zero_copy_only=False)]


def _partial_schema(s: Settings) -> pa.Schema:
    return pa.schema(
        [("id", pa.string()), ("correct", pa.bool_())] + [(f"n_{n}", pa.int64()) for n in s.labels]
    )


def _per_record(table: pa.Table, names: list[str]) -> pa.Table:
    """The count columns `names` summed per (id, correct)."""
    summed = table.group_by(["id", "correct"]).aggregate([(n, "sum") for n in names])
    return summed.select(["id", "correct", *(f"{n}_sum" for n in names)]).rename_columns(
        ["id", "correct", *names]
    )


def _selected_ids(folder: Path) -> pa.Array | None:
    path = folder / QUESTIONS
    if not path.is_file():
        return None
    questions = pq.read_table(path, columns=["id", "selected"])
    return pc.filter(questions.column("id"), questions.column("selected")).combine_chunks()


def count(folder: Path, s: Settings) -> Counts:
    """One pass over sentences/ (plus the selected ids of questions.parquet for select)."""
    n_labels, bins = len(s.labels), s.position_bins
    columns = ["id", "position", "kind", "d_ts", "correct"]
    columns += [f"{role}_prob" for role in s.roles] if s.relabel else ["label"]
    names = [f"n_{name}" for name in s.labels]
    positions = np.zeros((len(GROUPS), bins, n_labels), dtype=np.int64)
    dts = np.zeros(DTS_BINS, dtype=np.int64)
    n_sentences = n_markers = 0
    partials = [_partial_schema(s).empty_table()]
    for path, batch in _batches(folder, columns):
        pos = _floats(batch, "position")
        if not (np.all(pos >= 0.0) and np.all(pos <= 1.0)):
            raise ValueError(f"{path}: position must lie in [0, 1]")
        counted = _counted(batch, s.include_markers)
        codes = _label_codes(batch, s)
        correct = pc.cast(batch.column("correct"), pa.bool_())
        n_sentences += batch.num_rows
        n_markers += int((~counted).sum())
        cell = np.minimum((pos * bins).astype(np.int64), bins - 1) * n_labels + codes
        for g, mask in enumerate(
            (counted, counted & is_value(correct, True), counted & is_value(correct, False))
        ):
            positions[g] += np.bincount(cell[mask], minlength=bins * n_labels).reshape(bins, n_labels)
        d = _floats(batch, "d_ts")[counted]
        d_bin = ((d[~np.isnan(d)] + 1.0) * (DTS_BINS / 2)).astype(np.int64)
        dts += np.bincount(np.clip(d_bin, 0, DTS_BINS - 1), minlength=DTS_BINS)
        per_label = {n: pa.array(((codes == k) & counted).astype(np.int64)) for k, n in enumerate(names)}
        part = pa.table({"id": pc.cast(batch.column("id"), pa.string()), "correct": correct, **per_label})
        partials.append(_per_record(part, names))
    records = _per_record(pa.concat_tables(partials), names)
    chosen = None
    if s.kind == "select" and (selected := _selected_ids(folder)) is not None:
        chosen = is_value(pc.is_in(records.column("id"), value_set=selected), True)
    return Counts(
        n_sentences=n_sentences,
        n_markers_excluded=n_markers,
        positions=positions,
        dts=dts,
        record_correct=records.column("correct").combine_chunks(),
        record_counts=np.column_stack([records.column(n).to_numpy() for n in names]).reshape(-1, n_labels),
        chosen=chosen,
    )
