"""Streaming input records from JSONL, JSONL.gz and Parquet files.

Every record comes with its location (`file:line` for JSON lines, `file:row N` for Parquet) so that
errors can name it. A malformed line is reported as a `RecordError` and the stream goes on.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PARQUET_BATCH_ROWS = 4096


@dataclass(frozen=True)
class RecordError:
    """A record that could not be used: where it is, its id when known, the field and why."""

    location: str
    message: str
    record_id: str | None = None
    field: str | None = None

    def __str__(self) -> str:
        parts = [self.location]
        if self.record_id is not None:
            parts.append(f"id={self.record_id!r}")
        if self.field is not None:
            parts.append(f"field {self.field!r}")
        return f"{', '.join(parts)}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"location": self.location, "id": self.record_id, "field": self.field, "error": self.message}


@dataclass(frozen=True)
class Record:
    """One input record (a dict of its fields) and where it came from."""

    location: str
    fields: dict[str, Any]


def file_format(path: str | Path) -> str:
    """ "jsonl", "jsonl.gz" or "parquet", from the file name; ValueError otherwise."""
    name = str(path).lower()
    if name.endswith((".jsonl.gz", ".json.gz", ".ndjson.gz")):
        return "jsonl.gz"
    if name.endswith((".jsonl", ".json", ".ndjson")):
        return "jsonl"
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    raise ValueError(f"{path}: unknown input format (expected .jsonl, .jsonl.gz or .parquet)")


def _json_lines(path: Path, opener) -> Iterator[Record | RecordError]:
    with opener(path, "rt", encoding="utf-8", errors="surrogateescape") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            location = f"{path}:{number}"
            try:
                value = json.loads(line)
            except json.JSONDecodeError as e:
                yield RecordError(location, f"invalid JSON ({e.msg} at column {e.colno})")
                continue
            if not isinstance(value, dict):
                yield RecordError(location, f"expected a JSON object, got {type(value).__name__}")
                continue
            yield Record(location, value)


def _parquet_rows(path: Path) -> Iterator[Record | RecordError]:
    import pyarrow.parquet as pq

    row = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=PARQUET_BATCH_ROWS):
        for fields in batch.to_pylist():
            row += 1
            yield Record(f"{path}:row {row}", fields)


def iter_records(paths: Sequence[str | Path]) -> Iterator[Record | RecordError]:
    """Records of every file in order, streamed (memory does not grow with file size)."""
    for p in paths:
        path = Path(p)
        fmt = file_format(path)
        if not path.exists():
            raise FileNotFoundError(f"{path}: no such input file")
        if fmt == "parquet":
            yield from _parquet_rows(path)
        else:
            yield from _json_lines(path, gzip.open if fmt == "jsonl.gz" else open)


def record_id(fields: dict[str, Any], id_field: str, fallback: str) -> str:
    """The record's id as a string (`fallback`, e.g. its location, when it has none)."""
    value = fields.get(id_field)
    return fallback if value is None else str(value)
