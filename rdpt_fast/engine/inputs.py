"""The valid record stream of a run, cut into numbered chunks.

Every pass of a run (one per model, then the join) reads the input files again as a stream and cuts the
records that pass `check_input` into chunks of `chunk_records`: chunk k is the same records in every
pass, so shard k of every table holds the same records and a pass can skip the chunks it has finished.
Memory: one chunk plus the set of ids seen (for duplicate detection).
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rdpt_fast.records import Record, RecordError, file_format, iter_records


@dataclass(frozen=True)
class Chunk:
    """Chunk `index` of the valid stream: its records (fields) and where each came from."""

    index: int
    records: list[dict[str, Any]]
    locations: list[str]


def expand_inputs(patterns: Sequence[str | Path]) -> list[Path]:
    """Input paths, globs expanded (sorted); FileNotFoundError naming a pattern that matches nothing."""
    out: list[Path] = []
    for pattern in patterns:
        text = str(pattern)
        if any(c in text for c in "*?["):
            matches = [Path(m) for m in sorted(glob.glob(text, recursive=True))]
            if not matches:
                raise FileNotFoundError(f"{text}: no input file matches")
            out.extend(matches)
        else:
            path = Path(text)
            if not path.is_file():
                raise FileNotFoundError(f"{path}: no such input file")
            file_format(path)
            out.append(path)
    if not out:
        raise ValueError("no input files given")
    return out


def fingerprint(paths: Sequence[Path]) -> list[dict[str, Any]]:
    """What identifies the input of a run: each file's absolute path, size and modification time."""
    out = []
    for p in paths:
        st = os.stat(p)
        out.append({"path": str(Path(p).resolve()), "bytes": st.st_size, "mtime_ns": st.st_mtime_ns})
    return out


def check_input(fields: dict[str, Any], required: Sequence[str] = ()) -> tuple[str | None, str] | None:
    """(field, reason) when a record cannot enter a run, else None. Checks only what every model needs
    (and the `required` optional fields, e.g. question_id for selection); model-specific problems (too
    long, template errors) are found when scoring."""
    rid = fields.get("id")
    if rid is None:
        return "id", "missing"
    if not isinstance(rid, (str, int)) or isinstance(rid, bool):
        return "id", f"must be a string or an integer, not {type(rid).__name__}"
    response = fields.get("response")
    if not isinstance(response, str):
        return (
            "response",
            "missing" if response is None else f"must be a string, not {type(response).__name__}",
        )
    if not response:
        return "response", "empty"
    prompt = fields.get("prompt")
    if prompt is None:
        return "prompt", "missing"
    if isinstance(prompt, list):
        for i, m in enumerate(prompt):
            if not (
                isinstance(m, dict) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str)
            ):
                return "prompt", f"message {i} must be an object with string 'role' and 'content'"
    elif not isinstance(prompt, str):
        return "prompt", f"must be a string or a list of chat messages, not {type(prompt).__name__}"
    for name in required:
        if fields.get(name) is None:
            return name, "missing"
    qid = fields.get("question_id")
    if qid is not None and (not isinstance(qid, (str, int)) or isinstance(qid, bool)):
        return "question_id", f"must be a string or an integer, not {type(qid).__name__}"
    correct = fields.get("correct")
    if correct is not None and not isinstance(correct, bool):
        return "correct", f"must be true, false or null, not {type(correct).__name__}"
    return None


def valid_records(
    paths: Sequence[Path], rejects: list[RecordError] | None = None, required: Sequence[str] = ()
) -> Iterator[Record]:
    """Records that pass `check_input`, with unique ids (the first of a duplicate wins), in input order.
    Every other line is appended to `rejects` (when given) with its location and reason."""
    seen: set[str] = set()
    for item in iter_records(paths):
        if isinstance(item, RecordError):
            if rejects is not None:
                rejects.append(item)
            continue
        problem = check_input(item.fields, required)
        rid = item.fields.get("id")
        rid = None if rid is None or (problem and problem[0] == "id") else str(rid)
        if problem is None and rid in seen:
            problem = ("id", "duplicate id (an earlier record has it)")
        if problem is not None:
            if rejects is not None:
                rejects.append(RecordError(item.location, problem[1], rid, problem[0]))
            continue
        seen.add(rid)
        yield item


def iter_chunks(
    paths: Sequence[Path],
    chunk_records: int,
    rejects: list[RecordError] | None = None,
    required: Sequence[str] = (),
) -> Iterator[Chunk]:
    """The valid stream in chunks of `chunk_records` records (the last may be shorter)."""
    if chunk_records < 1:
        raise ValueError(f"chunk_records must be positive, got {chunk_records}")
    records: list[dict[str, Any]] = []
    locations: list[str] = []
    index = 0
    for item in valid_records(paths, rejects, required):
        records.append(item.fields)
        locations.append(item.location)
        if len(records) == chunk_records:
            yield Chunk(index, records, locations)
            index += 1
            records, locations = [], []
    if records:
        yield Chunk(index, records, locations)
