"""The numbers of `rdpt-fast report`: one streaming pass over a trace or select folder (docs/outputs.md).

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
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from rdpt_fast.rdpt.adaptive import DEFAULT_BINS, AdaptiveBeta, abs_dts_histogram, adaptive_beta
from rdpt_fast.rdpt.labels import SELECT_LABELS, TRACE_LABELS, classify, classify_selection, label_codes

#: kind -> (label names, roles with a `<role>_prob` column)
KINDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "trace": (TRACE_LABELS, ("teacher", "student", "distilled")),
    "select": (SELECT_LABELS, ("teacher", "student")),
}
BATCH_ROWS = 1 << 18
DTS_BINS = 40  # on [-1, 1]: width 0.05, so the default thresholds 0.1 fall on bin edges
SHARE_EDGES = np.linspace(0.0, 1.0, 11)
GROUPS = ("all", "correct", "incorrect")  # axis 0 of Counts.positions


@dataclass(frozen=True)
class Table:
    """One table of the report: rows of ints, floats (NaN = not defined) and strings."""

    title: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    note: str = ""


@dataclass(frozen=True)
class Settings:
    """What the report counts and where its labels and thresholds come from."""

    kind: str
    labels: tuple[str, ...]
    roles: tuple[str, ...]
    alpha: float | None  # trace only
    beta: float
    beta_from: str  # "run.json", "given" or "adaptive" (--beta auto)
    relabel: bool  # labels recomputed from the probabilities (else the stored `label` column)
    include_markers: bool
    position_bins: int
    adaptive: dict[str, Any] | None  # an AdaptiveBeta.to_dict() curve to show
    adaptive_source: str  # "run.json" or "this report" (--beta auto)

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


@dataclass(frozen=True)
class PositionShares:
    """Label shares per relative-position bin for each shown group (the plot and its table)."""

    edges: np.ndarray  # (bins + 1,)
    groups: tuple[str, ...]
    counted: np.ndarray  # (groups, bins)
    scored: np.ndarray  # (groups, bins)
    shares: np.ndarray  # (groups, bins, scored labels), NaN where nothing is scored
    unscored: np.ndarray  # (groups, bins), NaN where nothing is counted


@dataclass(frozen=True)
class Distribution:
    """A per-record quantity split into groups: its values (records where it is defined) and histogram."""

    name: str
    edges: np.ndarray
    integer: bool  # whole-number values: bins are labelled by the integers they hold
    totals: dict[str, int]  # group -> records in the group
    values: dict[str, np.ndarray]  # group -> finite values

    def counts(self, group: str) -> np.ndarray:
        return np.histogram(self.values[group], bins=self.edges)[0]


def read_run(folder: Path) -> dict[str, Any]:
    """run.json of a trace or select folder; FileNotFoundError / ValueError naming what is missing."""
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder")
    run_path = folder / "run.json"
    if not run_path.is_file():
        raise ValueError(f"{folder}: run.json is missing (not an output folder of rdpt-fast trace or select)")
    if not (folder / "sentences").is_dir():
        raise ValueError(f"{folder}: the sentences/ table is missing")
    try:
        run = json.loads(run_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ValueError(f"{run_path}: not valid JSON ({e})") from None
    if not isinstance(run, dict) or run.get("kind") not in KINDS:
        kind = run.get("kind") if isinstance(run, dict) else None
        raise ValueError(f"{run_path}: kind must be 'trace' or 'select', got {kind!r}")
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
    kind = run["kind"]
    labels, roles = KINDS[kind]
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
        kind=kind,
        labels=labels,
        roles=roles,
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
    for path in sorted((folder / "sentences").glob("part-*.parquet")):
        shard = pq.ParquetFile(path)
        missing = [c for c in columns if c not in shard.schema_arrow.names]
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(missing)} (see docs/outputs.md)")
        for batch in shard.iter_batches(batch_size=BATCH_ROWS, columns=columns):
            yield path, batch


def _floats(batch: pa.RecordBatch, name: str) -> np.ndarray:
    """A float column as numpy, NaN where null."""
    return pc.cast(batch.column(name), pa.float64()).to_numpy(zero_copy_only=False)


def _is(column: pa.Array, value: Any) -> np.ndarray:
    """Boolean mask column == value, False where null."""
    return pc.fill_null(pc.equal(column, value), False).to_numpy(zero_copy_only=False)


def _counted(batch: pa.RecordBatch, include_markers: bool) -> np.ndarray:
    if include_markers:
        return np.ones(batch.num_rows, dtype=bool)
    return ~_is(batch.column("kind"), "marker")


def _auto_beta(folder: Path, include_markers: bool) -> AdaptiveBeta:
    counts = np.zeros(DEFAULT_BINS, dtype=np.int64)
    for _, batch in _batches(folder, ["kind", "d_ts"]):
        counts += abs_dts_histogram(_floats(batch, "d_ts")[_counted(batch, include_markers)])
    return adaptive_beta(counts=counts)


def _label_codes(batch: pa.RecordBatch, s: Settings) -> np.ndarray:
    if s.relabel:
        probs = [_floats(batch, f"{role}_prob") for role in s.roles]
        if s.kind == "trace":
            return classify(*probs, alpha=s.alpha, beta=s.beta)
        return classify_selection(*probs, beta=s.beta)
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
    path = folder / "questions.parquet"
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
        for g, mask in enumerate((counted, counted & _is(correct, True), counted & _is(correct, False))):
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
        chosen = _is(pc.is_in(records.column("id"), value_set=selected), True)
    return Counts(
        n_sentences=n_sentences,
        n_markers_excluded=n_markers,
        positions=positions,
        dts=dts,
        record_correct=records.column("correct").combine_chunks(),
        record_counts=np.column_stack([records.column(n).to_numpy() for n in names]).reshape(-1, n_labels),
        chosen=chosen,
    )


# -- derived numbers and their tables ---------------------------------------------------------------------


def _shares(counts: np.ndarray, s: Settings) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """counts (..., labels) -> counted, scored, label shares of scored (..., scored labels) and unscored
    share of counted; NaN where the denominator is 0."""
    u = s.labels.index("unscored")
    counted = counts.sum(axis=-1)
    scored = counted - counts[..., u]
    with np.errstate(divide="ignore", invalid="ignore"):
        return counted, scored, np.delete(counts, u, axis=-1) / scored[..., None], counts[..., u] / counted


def _share_columns(s: Settings) -> tuple[str, ...]:
    return ("sentences", "scored", *s.scored_labels, "unscored")


def _share_row(counted: Any, scored: Any, shares: np.ndarray, unscored: Any) -> tuple[Any, ...]:
    """The _share_columns of one row, from the outputs of _shares."""
    return (int(counted), int(scored), *(float(x) for x in shares), float(unscored))


SHARE_NOTE = "Label columns: share of the scored sentences; unscored: share of all counted sentences."


def _bin_label(lo: float, hi: float, integer: bool = False) -> str:
    if integer:
        return f"{int(lo)}" if hi - lo == 1 else f"{int(lo)}–{int(hi) - 1}"
    return f"{lo:.2f}–{hi:.2f}"


def _flatten(value: Any, key: str = "") -> Iterator[tuple[str, str]]:
    """(dotted key, text) of every scalar in a JSON value; a list of scalars is one item."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _flatten(v, f"{key}.{k}" if key else str(k))
    elif isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        for i, v in enumerate(value):
            yield from _flatten(v, f"{key}[{i}]")
    else:
        yield key, " ".join(map(str, value)) if isinstance(value, list) else str(value)


def overview_tables(run: dict[str, Any], s: Settings, c: Counts) -> list[Table]:
    """run.json's settings, what this report counted, and the label totals."""
    run_rows = [(key, value) for key, value in _flatten(run) if not key.startswith("adaptive.")]
    totals = c.positions[0].sum(axis=0)
    counted, scored, shares, unscored = _shares(totals, s)
    rows: list[tuple[Any, ...]] = [
        ("labels", "recomputed from the probabilities" if s.relabel else "as stored in the folder"),
        *([("alpha", s.alpha)] if s.alpha is not None else []),
        ("beta", s.beta),
        ("beta from", s.beta_from),
        ("markers", "included" if s.include_markers else "excluded"),
        ("sentences", c.n_sentences),
        ("markers excluded", c.n_markers_excluded),
        ("counted sentences", int(counted)),
        ("scored sentences", int(scored)),
        ("unscored sentences", int(counted - scored)),
        ("records", len(c.record_correct)),
        ("records with correct known", len(c.record_correct) - c.record_correct.null_count),
    ]
    if s.kind == "select":
        rows.append(
            ("records selected", "questions.parquet absent" if c.chosen is None else int(c.chosen.sum()))
        )
    fractions = dict(zip(s.scored_labels, shares.tolist())) | {"unscored": float(unscored)}
    label_rows = [(name, int(totals[k]), fractions[name]) for k, name in enumerate(s.labels)]
    return [
        Table("run.json", ("key", "value"), run_rows),
        Table("This report", ("item", "value"), rows),
        Table("Labels", ("label", "sentences", "share"), label_rows, SHARE_NOTE),
    ]


def position_shares(c: Counts, s: Settings) -> PositionShares:
    """Shares per position bin: correct and incorrect records when `correct` is known, else all."""
    shown = ("correct", "incorrect") if c.has_correct else ("all",)
    counted, scored, shares, unscored = _shares(c.positions[[GROUPS.index(g) for g in shown]], s)
    edges = np.linspace(0.0, 1.0, s.position_bins + 1)
    return PositionShares(edges, shown, counted, scored, shares, unscored)


def position_table(p: PositionShares, s: Settings) -> Table:
    rows = [
        (
            _bin_label(p.edges[b], p.edges[b + 1]),
            group,
            *_share_row(p.counted[g, b], p.scored[g, b], p.shares[g, b], p.unscored[g, b]),
        )
        for g, group in enumerate(p.groups)
        for b in range(len(p.edges) - 1)
    ]
    return Table(
        "Label shares by relative position", ("position", "group", *_share_columns(s)), rows, SHARE_NOTE
    )


def dts_edges() -> np.ndarray:
    return np.linspace(-1.0, 1.0, DTS_BINS + 1)


def dts_table(c: Counts) -> Table:
    edges = dts_edges()
    rows = [(_bin_label(edges[b], edges[b + 1]), int(c.dts[b])) for b in range(DTS_BINS)]
    note = "Counted sentences with a d_TS = p_T - p_S; bins are [lo, hi), the last one [0.95, 1.00]."
    return Table("d_TS histogram", ("d_TS", "sentences"), rows, note)


def adaptive_tables(s: Settings) -> list[Table]:
    """The adaptive-beta rule and the curve it maximised (s.adaptive must be set)."""
    curve = s.adaptive
    assert curve is not None
    summary = [(key, curve[key]) for key in ("rule", "beta", "degenerate") if key in curve]
    summary.append(("curve from", s.adaptive_source))
    points = list(zip(curve["thresholds"], curve["objective"]))
    return [
        Table("Adaptive beta", ("item", "value"), summary),
        Table("Adaptive-beta curve", ("threshold", "objective"), points),
    ]


def _distribution(
    name: str, edges: np.ndarray, values: np.ndarray, groups: dict[str, np.ndarray], integer: bool = False
) -> Distribution:
    defined = np.isfinite(values)
    totals = {g: int(m.sum()) for g, m in groups.items()}
    return Distribution(name, edges, integer, totals, {g: values[m & defined] for g, m in groups.items()})


def _teacher_counts(c: Counts, s: Settings) -> tuple[np.ndarray, np.ndarray]:
    """Per record: teacher sentences and teacher share of the scored sentences (NaN when none)."""
    n_teacher = c.record_counts[:, s.labels.index("teacher")]
    scored = c.record_counts.sum(axis=1) - c.record_counts[:, s.labels.index("unscored")]
    with np.errstate(divide="ignore", invalid="ignore"):
        return n_teacher, n_teacher / scored


def teacher_share(c: Counts, s: Settings) -> Distribution:
    """Teacher share per record, for correct and incorrect records when `correct` is known, else all."""
    if c.has_correct:
        groups = {"correct": _is(c.record_correct, True), "incorrect": _is(c.record_correct, False)}
    else:
        groups = {"all": np.ones(len(c.record_correct), dtype=bool)}
    return _distribution("teacher share per record", SHARE_EDGES, _teacher_counts(c, s)[1], groups)


def _integer_edges(values: np.ndarray, max_bins: int = 20) -> np.ndarray:
    top = int(values.max()) + 1 if values.size else 1
    width = math.ceil(top / max_bins)
    return np.arange(0, top + width, width, dtype=np.float64)


def chosen(c: Counts, s: Settings) -> tuple[Table, list[Distribution]]:
    """Select: label shares, teacher count and teacher share per record, chosen vs. not chosen
    (c.chosen must be set)."""
    assert c.chosen is not None
    groups = {"chosen": c.chosen, "not chosen": ~c.chosen}
    rows = [
        (g, int(m.sum()), *_share_row(*_shares(c.record_counts[m].sum(axis=0), s))) for g, m in groups.items()
    ]
    table = Table(
        "Labels of chosen and not chosen responses",
        ("group", "records", *_share_columns(s)),
        rows,
        SHARE_NOTE,
    )
    n_teacher, share = _teacher_counts(c, s)
    return table, [
        _distribution(
            "teacher sentences per record",
            _integer_edges(n_teacher),
            n_teacher.astype(np.float64),
            groups,
            True,
        ),
        _distribution("teacher share per record", SHARE_EDGES, share, groups),
    ]


def distribution_tables(d: Distribution) -> list[Table]:
    """Summary statistics per group and the histogram (records and fraction of the group's values)."""
    stats = []
    for g, v in d.values.items():
        numbers = (v.mean(), np.median(v), v.min(), v.max()) if v.size else (math.nan,) * 4
        stats.append((g, d.totals[g], v.size, *(float(x) for x in numbers)))
    counts = {g: d.counts(g) for g in d.values}
    rows = []
    for b in range(len(d.edges) - 1):
        row: list[Any] = [_bin_label(d.edges[b], d.edges[b + 1], d.integer)]
        for g, v in d.values.items():
            row += [int(counts[g][b]), counts[g][b] / v.size if v.size else math.nan]
        rows.append(tuple(row))
    columns = ("bin", *(f"{g} {what}" for g in d.values for what in ("records", "fraction")))
    return [
        Table(
            f"{d.name}: summary", ("group", "records", "with a value", "mean", "median", "min", "max"), stats
        ),
        Table(f"{d.name}: histogram", columns, rows),
    ]
