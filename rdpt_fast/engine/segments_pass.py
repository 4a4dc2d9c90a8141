"""Segments, once per record per run: `segments/part-NNNNN.parquet`, and the chunks every role scores.

The first stage of every run segments each record's response (or checks the record's own `segments`) and
writes one row per record: its spans, or why it has none. Every role then scores the records of a chunk
with those spans (`ChunkStream`), so all roles see one segmentation and the join needs no check that they
agree. The stage also counts the chunks of the input (`RunFolder.set_num_chunks`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from rdpt_fast.engine.folder import SEGMENTS_STAGE, RunFolder
from rdpt_fast.engine.inputs import Chunk, InputSpec
from rdpt_fast.scoring.prepare import RecordProblem, record_segments
from rdpt_fast.segmentation import segment_batch
from rdpt_fast.segments import KIND_NAMES, Segments
from rdpt_fast.writers import open_rows

SEGMENTS_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("error", pa.string()),
        ("starts", pa.list_(pa.int64())),
        ("ends", pa.list_(pa.int64())),
        ("kinds", pa.list_(pa.string())),
    ]
)


def chunk_segments(chunk: Chunk, options: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One `SEGMENTS_SCHEMA` row per record of `chunk`: responses without `segments` are segmented with
    `rdpt_fast.segment_batch(**options)` (the C++ core, on every core), given `segments` are checked to
    partition the response."""
    plain = [i for i, r in enumerate(chunk.records) if r.get("segments") is None]
    found: dict[int, Segments | str] = {}
    try:
        batch = segment_batch([chunk.records[i]["response"] for i in plain], **options)
        found.update(zip(plain, batch))
    except ValueError:
        pass  # a response that cannot be segmented: each record on its own below names it
    rows = []
    for i, fields in enumerate(chunk.records):
        segs = found.get(i)
        if segs is None:
            try:
                segs = record_segments(fields, fields["response"], options)
            except RecordProblem as e:
                segs = str(e)
            except ValueError as e:
                segs = f"field 'response': {e}"
        rows.append(segments_row(str(fields["id"]), segs))
    return rows


def segments_row(rid: str, segs: Segments | str) -> dict[str, Any]:
    if isinstance(segs, str):
        return {"id": rid, "error": segs, "starts": [], "ends": [], "kinds": []}
    lists = segs.to_dict()
    return {"id": rid, "error": None, **lists}


def row_segments(row: Mapping[str, Any]) -> Segments:
    """The `Segments` of a `SEGMENTS_SCHEMA` row without an error."""
    return Segments.from_lists(row["starts"], row["ends"], [KIND_NAMES.index(k) for k in row["kinds"]])


def read_segments(path: Path) -> dict[str, dict[str, Any]]:
    """A segments shard as {record id: row}."""
    return {row["id"]: row for row in pq.read_table(path).to_pylist()}


def segment_pass(folder: RunFolder, spec: InputSpec, options: Mapping[str, Any]) -> int:
    """Write the segments shard of every chunk not done yet; returns the number of records of the valid
    stream (and records the number of chunks in the manifest)."""
    done = folder.done(SEGMENTS_STAGE)
    records = chunks = 0
    for chunk in spec.chunks():
        chunks += 1
        records += len(chunk.records)
        if chunk.index in done:
            continue
        path = folder.segments_path(chunk.index)
        with open_rows(path, SEGMENTS_SCHEMA) as w:
            w.write(chunk_segments(chunk, options))
        folder.mark(SEGMENTS_STAGE, chunk.index, [path], records=len(chunk.records))
    folder.set_num_chunks(chunks)
    return records


@dataclass(frozen=True)
class ChunkStream:
    """The chunks a role scores: chunk k of the valid stream of `spec`, each record with its `segments`
    from the run's segments shard (records without spans are left out: the join rejects them), chunks in
    `skip` left out, records cut down to the fields in `keep` when given. Picklable (a Ray pass runs it in
    its read task, with absolute paths)."""

    spec: InputSpec
    root: Path
    skip: frozenset[int] = frozenset()
    keep: tuple[str, ...] | None = None

    def __call__(self) -> Iterator[Chunk]:
        folder = RunFolder(self.root)
        for chunk in self.spec.chunks():
            if chunk.index in self.skip:
                continue
            spans = read_segments(folder.segments_path(chunk.index))
            records, locations = [], []
            for fields, location in zip(chunk.records, chunk.locations):
                row = spans.get(str(fields["id"]))
                if row is None or row["error"] is not None:
                    continue
                if self.keep is not None:
                    fields = {k: fields[k] for k in self.keep if k in fields}
                records.append({**fields, "segments": row_segments(row)})
                locations.append(location)
            yield Chunk(chunk.index, records, locations)
