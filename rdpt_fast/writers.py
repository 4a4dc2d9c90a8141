"""Row writers for JSONL, JSONL.gz and Parquet outputs that never leave a half-written file.

Rows go to a temporary file beside the target; it is renamed over the target only when the
writer closes without an error, and removed otherwise.
"""

from __future__ import annotations

import gzip
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.parquet as pq


def fsync_dir(folder: Path) -> None:
    """Make a rename in `folder` durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class RowWriter:
    """Writes batches of rows (dicts) to JSON lines or Parquet."""

    def __init__(
        self, stream: IO[bytes] | IO[str], fmt: str, schema: pa.Schema | None = None, binary: bool = True
    ):
        self._stream = stream
        self._binary = binary
        self._fmt = fmt
        self._schema = schema
        self._parquet: pq.ParquetWriter | None = None
        self.rows_written = 0

    def write(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        if self._fmt == "parquet":
            table = pa.Table.from_pylist(rows, schema=self._schema)
            if self._parquet is None:
                self._parquet = pq.ParquetWriter(self._stream, table.schema)
            self._parquet.write_table(table)
        else:
            lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
            self._stream.write(lines.encode("utf-8") if self._binary else lines)
        self.rows_written += len(rows)

    def write_table(self, table: pa.Table) -> None:
        """Write an Arrow table (Parquet output only; the schema of the first table is the file's)."""
        if self._fmt != "parquet":
            raise ValueError("write_table needs a Parquet output")
        if self._parquet is None:
            self._parquet = pq.ParquetWriter(self._stream, self._schema or table.schema)
        self._parquet.write_table(table)
        self.rows_written += table.num_rows

    def finish(self) -> None:
        if self._fmt == "parquet":
            if self._parquet is None:  # no rows: still a valid, empty file with the schema
                if self._schema is None:
                    raise ValueError("cannot write an empty Parquet file without a schema")
                self._parquet = pq.ParquetWriter(self._stream, self._schema)
            self._parquet.close()


def output_format(path: str | Path) -> str:
    name = str(path).lower()
    if name.endswith(".parquet"):
        return "parquet"
    if name.endswith(".gz"):
        return "jsonl.gz"
    return "jsonl"


@contextmanager
def open_rows(path: str | Path | None, schema: pa.Schema | None = None) -> Iterator[RowWriter]:
    """A `RowWriter` for `path` (format from its suffix: .parquet, .gz for JSONL.gz, else JSONL),
    or for stdout (JSON lines) when `path` is None or "-". The file appears only when complete."""
    if path is None or str(path) == "-":
        writer = RowWriter(sys.stdout, "jsonl", binary=False)
        yield writer
        sys.stdout.flush()
        return
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    fmt = output_format(target)
    try:
        with open(tmp, "wb") as raw:
            stream = gzip.GzipFile(fileobj=raw, mode="wb") if fmt == "jsonl.gz" else raw
            writer = RowWriter(stream, "parquet" if fmt == "parquet" else "jsonl", schema)
            yield writer
            writer.finish()
            if stream is not raw:
                stream.close()
            raw.flush()
            os.fsync(raw.fileno())  # the data is on disk before the name is
        os.replace(tmp, target)
        fsync_dir(target.parent)
    finally:
        if tmp.exists():
            tmp.unlink()
