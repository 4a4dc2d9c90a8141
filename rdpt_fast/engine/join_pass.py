"""The join stage of a run: each chunk's segments and role scores -> `sentences/` (and `records/` for a
labelled run), plus every reject of the run.

The input is read once more as a stream; a record is joined when it has spans and every role scored it,
else it is a reject naming the stage (`input`, `segments` or the role) that could not take it. Chunks
already joined only contribute their rejects.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from rdpt_fast.engine.config import RunConfig
from rdpt_fast.engine.flat import flat_sentences
from rdpt_fast.engine.folder import JOIN, RunFolder
from rdpt_fast.engine.inputs import InputSpec
from rdpt_fast.engine.role_pass import read_scores
from rdpt_fast.engine.schemes import RecordScores, Scheme
from rdpt_fast.engine.segments_pass import read_segments
from rdpt_fast.progress import Progress
from rdpt_fast.rdpt.join import join_records
from rdpt_fast.rdpt.labels import DEFAULT_BETA
from rdpt_fast.records import RecordError
from rdpt_fast.writers import open_rows

_FIELD = re.compile(r"^field '([^']+)'")


def reject_row(
    location: str, rid: str | None, stage: str, error: str, field: str | None = None
) -> dict[str, Any]:
    """One line of rejects.jsonl."""
    return {"location": location, "id": rid, "field": field, "stage": stage, "error": error}


def record_problem(
    spans: Mapping[str, Any] | None, rows: Mapping[str, Mapping[str, Any] | None]
) -> tuple[str, str, str | None] | None:
    """(stage, reason, field) when a record cannot be joined, else None."""
    if spans is None:
        return "segments", "no segments for this record", None
    if spans["error"] is not None:
        named = _FIELD.match(spans["error"])
        return "segments", spans["error"], named.group(1) if named else None
    for role, row in rows.items():
        if row is None:
            return role, "no score for this record", None
        if row["error"] is not None:
            return role, row["error"], None
    return None


def write_tables(folder: RunFolder, chunk: int, tables: Mapping[str, pa.Table]) -> list[Path]:
    """Write the shards of chunk `chunk` of `tables` ({"sentences": ..., "records": ...}), each atomically."""
    paths = []
    for name, table in tables.items():
        path = folder.sentences_path(chunk) if name == "sentences" else folder.records_path(chunk)
        with open_rows(path, table.schema) as w:
            w.write_table(table)
        paths.append(path)
    return paths


def join_pass(
    folder: RunFolder,
    scheme: Scheme,
    config: RunConfig,
    spec: InputSpec,
    model_names: Mapping[str, str],
    drop_fields: Sequence[str] = (),
    total: int | None = None,
) -> list[dict[str, Any]]:
    """Join every chunk not yet joined; returns all rejects of the run (input rejects first)."""
    input_rejects: list[RecordError] = []
    rejects: list[dict[str, Any]] = []
    done = folder.done(JOIN)
    progress = Progress(f"{scheme.kind} join", total, quiet=config.quiet)
    for chunk in spec.chunks(input_rejects):
        spans = read_segments(folder.segments_path(chunk.index))
        scores = {role: read_scores(folder.scores_path(role, chunk.index)) for role in scheme.roles}
        items = []
        for fields, location in zip(chunk.records, chunk.locations):
            rid = str(fields["id"])
            rows = {role: scores[role].get(rid) for role in scheme.roles}
            problem = record_problem(spans.get(rid), rows)
            if problem is None:
                items.append(RecordScores(fields, spans[rid], rows))
            else:
                rejects.append(reject_row(location, rid, *problem))
        if chunk.index not in done:
            _join_chunk(folder, scheme, config, chunk.index, items, model_names, drop_fields)
        progress.update(len(chunk.records))
    progress.close()
    input_rows = [reject_row(e.location, e.record_id, "input", e.message, e.field) for e in input_rejects]
    return input_rows + rejects


def _join_chunk(
    folder: RunFolder,
    scheme: Scheme,
    config: RunConfig,
    chunk: int,
    items: list[RecordScores],
    model_names: Mapping[str, str],
    drop_fields: Sequence[str],
) -> None:
    if not scheme.labelled:
        role = scheme.roles[0]
        sentences = flat_sentences(items, role, model_names.get(role, role), text=config.text)
        written = write_tables(folder, chunk, {"sentences": sentences})
        folder.mark(JOIN, chunk, written, records=len(items), sentences=sentences.num_rows)
        return
    beta = DEFAULT_BETA if config.beta == "auto" else float(config.beta)
    sentences, records = join_records(
        items,
        scheme,
        alpha=config.alpha,
        beta=beta,
        text=config.text,
        include_markers=config.include_markers,
        drop_fields=drop_fields,
    )
    written = write_tables(folder, chunk, {"sentences": sentences, "records": records})
    folder.mark(
        JOIN,
        chunk,
        written,
        alpha=config.alpha,
        beta=beta,
        include_markers=config.include_markers,
        records=len(items),
        sentences=sentences.num_rows,
    )
