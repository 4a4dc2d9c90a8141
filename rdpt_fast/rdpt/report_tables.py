"""The tables of `rdpt-fast report`, derived from what `report_counts` counted: label shares by position,
the d_TS histogram, the adaptive-beta curve, per-record distributions and, for select, chosen vs not."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from rdpt_fast.rdpt.report_counts import DTS_BINS, GROUPS, SHARE_EDGES, Counts, Settings, is_value


@dataclass(frozen=True)
class Table:
    """One table of the report: rows of ints, floats (NaN = not defined) and strings."""

    title: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    note: str = ""


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
        groups = {"correct": is_value(c.record_correct, True), "incorrect": is_value(c.record_correct, False)}
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
