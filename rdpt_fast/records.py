"""Streaming input records from JSONL, JSONL.gz and Parquet files.

Every record comes with its location (`file:line` for JSON lines, `file:row N` for Parquet) so that
errors can name it. A malformed line is reported as a `RecordError` and the stream goes on.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

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


#: What reading a damaged file raises: a truncated or corrupt gzip stream (EOFError, zlib.error,
#: gzip.BadGzipFile, an OSError), an unreadable file (OSError), a damaged Parquet file (ArrowException).
DAMAGED = (OSError, EOFError, zlib.error, pa.ArrowException)


def _json_lines(path: Path, opener) -> Iterator[Record | RecordError]:
    """Lines end at "\n" only (a bare CR inside a line is JSON whitespace); a BOM at the start is skipped;
    bytes that are not UTF-8 are kept as lone surrogates, which `check_input` rejects by field."""
    number = 0
    try:
        with opener(path, "rt", encoding="utf-8-sig", errors="surrogateescape", newline="\n") as f:
            for number, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                yield _json_record(f"{path}:{number}", line)
    except DAMAGED as e:
        yield RecordError(f"{path}:{number + 1}", damaged(e))


def _json_record(location: str, line: str) -> Record | RecordError:
    try:
        value = json.loads(line)
    except json.JSONDecodeError as e:
        return RecordError(location, f"invalid JSON ({e.msg.removesuffix(' at')} at column {e.colno})")
    except RecursionError:
        return RecordError(location, "invalid JSON (nested too deeply)")
    if not isinstance(value, dict):
        return RecordError(location, f"expected a JSON object, got {type(value).__name__}")
    return Record(location, value)


def _parquet_rows(path: Path) -> Iterator[Record | RecordError]:
    import pyarrow.parquet as pq

    row = 0
    try:
        for batch in pq.ParquetFile(path).iter_batches(batch_size=PARQUET_BATCH_ROWS):
            for fields in batch.to_pylist():
                row += 1
                yield Record(f"{path}:row {row}", fields)
    except DAMAGED as e:
        yield RecordError(f"{path}:row {row + 1}", damaged(e))


def damaged(error: BaseException) -> str:
    """The reject message of a file whose reading stopped at a damaged or truncated part."""
    return f"the file is damaged or truncated; reading stopped here ({type(error).__name__}: {error})"


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
