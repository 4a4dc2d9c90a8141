"""`rdpt-fast report`: PNG plots and a self-contained HTML / Markdown summary of a trace or select folder.

`report(folder)` reads run.json and the sentences table in one streaming pass (report_counts), derives its
tables (report_tables), draws the figures (report_plots) and writes into folder/report (or `output`): one
PNG per figure, report.html with the PNGs embedded as data URIs, and report.md linking the PNGs beside it.
Every figure comes with tables of the numbers it shows. Files are written to a temporary name and
renamed; figures and formats this run does not produce are removed from the report folder so that it never
mixes two runs. The folder's own shards are only read, also when the labels are recomputed with other
thresholds.
"""

from __future__ import annotations

import base64
import html
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rdpt_fast.rdpt import report_counts as counts
from rdpt_fast.rdpt import report_plots as plots
from rdpt_fast.rdpt import report_tables as tables
from rdpt_fast.rdpt.report_counts import Counts, Settings
from rdpt_fast.rdpt.report_tables import Table

FORMATS = ("html", "md")
FIGURES = ("positions", "dts", "adaptive_beta", "teacher_share", "chosen")  # PNG file stems
COLLAPSE_ROWS = 25  # longer tables are folded into <details>

CSS = (
    "body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:13px}"
    "td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}th{background:#f3f3f3}"
    "td:first-child,th:first-child{text-align:left}img{max-width:100%}.note{color:#555;font-size:13px}"
)


@dataclass(frozen=True)
class Section:
    """A part of the report: text, an optional figure (PNG bytes, file `name`.png) and its tables."""

    name: str
    title: str
    text: str
    tables: list[Table]
    png: bytes | None = None


def report(
    folder: str | Path,
    *,
    alpha: float | None = None,
    beta: float | str | None = None,
    include_markers: bool = False,
    formats: Sequence[str] = FORMATS,
    position_bins: int = 10,
    output: str | Path | None = None,
) -> Path:
    """Write the report of a trace or select output folder and return the report folder.

    alpha / beta (beta may be "auto": adaptive.adaptive_beta on |d_TS|) relabel the sentences from their
    probabilities for this report only; a threshold not given is the run's (run.json). Markers are left
    out of the label statistics unless `include_markers`; unscored sentences are a category of their own.
    `formats` is a non-empty subset of ("html", "md"); PNGs are always written. FileNotFoundError for a
    missing folder, ValueError naming the path for a folder without run.json or sentences/.
    """
    formats = tuple(formats)
    if not formats or not set(formats) <= set(FORMATS):
        raise ValueError(f"formats must be a non-empty subset of {', '.join(FORMATS)}, got {formats}")
    folder = Path(folder)
    run = counts.read_run(folder)
    s = counts.settings_for(
        folder, run, alpha=alpha, beta=beta, include_markers=include_markers, position_bins=position_bins
    )
    sections = build_sections(folder, run, s, counts.count(folder, s))
    out = folder / "report" if output is None else Path(output)
    out.mkdir(parents=True, exist_ok=True)
    pngs = {sec.name: sec.png for sec in sections if sec.png is not None}
    for name in FIGURES:
        if name in pngs:
            _write(out / f"{name}.png", pngs[name])
        else:
            (out / f"{name}.png").unlink(missing_ok=True)
    title = f"RDPT {s.kind} report: {folder.resolve().name}"
    render = {"html": to_html, "md": to_markdown}
    for fmt in FORMATS:
        if fmt in formats:
            _write(out / f"report.{fmt}", render[fmt](title, sections).encode("utf-8"))
        else:
            (out / f"report.{fmt}").unlink(missing_ok=True)
    return out


def _write(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically (temporary name beside it, then rename)."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def build_sections(folder: Path, run: dict[str, Any], s: Settings, c: Counts) -> list[Section]:
    """The report's sections; a figure is drawn only when it has something to show."""
    counted = int(c.positions[0].sum())
    intro = [f"Folder {folder} ({s.kind})."]
    if c.n_sentences == 0:
        intro.append("The folder has no sentences: there is nothing to count or plot.")
    if s.kind == "select" and c.chosen is None:
        intro.append("questions.parquet is absent: chosen vs. not chosen is left out.")
    which = "all sentences" if s.include_markers else "the sentences that are not markers"
    intro.append(
        f"Label statistics count {which} ({counted} of {c.n_sentences}); unscored sentences "
        "(a model gave them no token) are a category of their own."
    )
    sections = [Section("overview", "Overview", " ".join(intro), tables.overview_tables(run, s, c))]
    if counted:
        p = tables.position_shares(c, s)
        text = "Share of each label per bin of relative position (sentence / (num_sentences - 1))"
        if c.has_correct:
            unknown = counted - int(c.positions[1:].sum())
            text += "; solid: correct responses, dashed: incorrect ones"
            if unknown:
                text += f" (left out here: {unknown} counted sentences of records without a correct value)"
        sections.append(
            Section(
                "positions",
                "Labels by position",
                text + ".",
                [tables.position_table(p, s)],
                plots.positions(p, s.scored_labels),
            )
        )
    if c.dts.sum():
        alphas = f"±alpha = {s.alpha:g} and " if s.alpha is not None else ""
        sections.append(
            Section(
                "dts",
                "d_TS",
                f"Distribution of d_TS = p_T - p_S with {alphas}±beta = {s.beta:g} marked.",
                [tables.dts_table(c)],
                plots.dts_histogram(tables.dts_edges(), c.dts, s.alpha, s.beta),
            )
        )
    if s.adaptive is not None:
        sections.append(
            Section(
                "adaptive_beta",
                "Adaptive beta",
                "The objective maximised over candidate thresholds on |d_TS| "
                f"(curve from {s.adaptive_source}).",
                tables.adaptive_tables(s),
                plots.adaptive_curve(s.adaptive),
            )
        )
    if len(c.record_correct):
        d = tables.teacher_share(c, s)
        by = "correct vs. incorrect records" if c.has_correct else "all records"
        sections.append(
            Section(
                "teacher_share",
                "Teacher share per record",
                f"Teacher sentences / scored sentences of each record, {by}; "
                "records with no scored sentence have no value.",
                tables.distribution_tables(d),
                plots.distributions([d]),
            )
        )
    if c.chosen is not None and len(c.record_correct):
        table, dists = tables.chosen(c, s)
        sections.append(
            Section(
                "chosen",
                "Chosen vs. not chosen",
                "The selected responses (questions.parquet) against the other candidates.",
                [table] + [t for d in dists for t in tables.distribution_tables(d)],
                plots.distributions(dists),
            )
        )
    return sections


def _cell(value: Any) -> str:
    if isinstance(value, (float, np.floating)):
        return "n/a" if math.isnan(value) else f"{value:.4g}"
    return str(value)


def _md_table(t: Table) -> str:
    lines = [f"#### {t.title}", ""] + ([t.note, ""] if t.note else [])
    body = ["| " + " | ".join(t.columns) + " |", "|" + "---|" * len(t.columns)]
    body += ["| " + " | ".join(_cell(v).replace("|", "\\|") for v in row) + " |" for row in t.rows]
    if len(t.rows) > COLLAPSE_ROWS:
        body = [f"<details><summary>{len(t.rows)} rows</summary>", "", *body, "", "</details>"]
    return "\n".join(lines + body)


def to_markdown(title: str, sections: list[Section]) -> str:
    """Markdown; figures are linked as `name`.png beside the file."""
    parts = [f"# {title}"]
    for sec in sections:
        parts += [f"## {sec.title}", sec.text]
        if sec.png is not None:
            parts.append(f"![{sec.title}]({sec.name}.png)")
        parts += [_md_table(t) for t in sec.tables]
    return "\n\n".join(parts) + "\n"


def _html_table(t: Table) -> str:
    e = html.escape
    head = "".join(f"<th>{e(c)}</th>" for c in t.columns)
    rows = "".join("<tr>" + "".join(f"<td>{e(_cell(v))}</td>" for v in row) + "</tr>" for row in t.rows)
    table = f"<table><tr>{head}</tr>{rows}</table>"
    if len(t.rows) > COLLAPSE_ROWS:
        table = f"<details><summary>{len(t.rows)} rows</summary>{table}</details>"
    note = f'<p class="note">{e(t.note)}</p>' if t.note else ""
    return f"<h4>{e(t.title)}</h4>{note}{table}"


def to_html(title: str, sections: list[Section]) -> str:
    """One self-contained HTML page: inline CSS, figures as base64 data URIs."""
    e = html.escape
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{e(title)}</title>"]
    parts.append(f"<style>{CSS}</style></head><body><h1>{e(title)}</h1>")
    for sec in sections:
        parts.append(f"<h2>{e(sec.title)}</h2><p>{e(sec.text)}</p>")
        if sec.png is not None:
            data = base64.b64encode(sec.png).decode("ascii")
            parts.append(f'<img alt="{e(sec.title)}" src="data:image/png;base64,{data}">')
        parts += [_html_table(t) for t in sec.tables]
    parts.append("</body></html>\n")
    return "\n".join(parts)
