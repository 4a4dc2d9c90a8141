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
    for name in ("id", "question_id", "response"):
        if (why := text_problem(fields.get(name))) is not None:
            return name, why
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
            if (why := text_problem(m["role"]) or text_problem(m["content"])) is not None:
                return "prompt", f"message {i}: {why}"
    elif not isinstance(prompt, str):
        return "prompt", f"must be a string or a list of chat messages, not {type(prompt).__name__}"
    elif (why := text_problem(prompt)) is not None:
        return "prompt", why
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


def text_problem(value: Any) -> str | None:
    """Why a string is not valid Unicode text (a byte that is not UTF-8, read as a lone surrogate, or an
    unpaired surrogate escape in JSON), else None; None for anything but a string."""
    if not isinstance(value, str):
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as e:
        return f"not valid UTF-8 text (an undecodable byte or unpaired surrogate at code point {e.start})"
    return None


def printable_id(value: Any) -> str:
    """A record id as text that can be written anywhere (invalid code points shown as escapes)."""
    return str(value).encode("utf-8", "backslashreplace").decode("utf-8")


@dataclass(frozen=True)
class InputSpec:
    """What a run reads: the files, records per chunk, the optional fields every record needs (e.g.
    question_id for selection), the names of the id / prompt / response fields in the files, at most
    `limit` valid records, and whether a record without an id gets its location ("file:line") as id.
    Picklable (a Ray pass reads the input in its own task)."""

    paths: tuple[Path, ...]
    chunk_records: int = 1000
    required: tuple[str, ...] = ()
    id_field: str = "id"
    prompt_field: str = "prompt"
    response_field: str = "response"
    limit: int | None = None
    generate_ids: bool = False

    def fields(self) -> dict[str, Any]:
        """How records are read, as run.json records it."""
        names = {"id": self.id_field, "prompt": self.prompt_field, "response": self.response_field}
        return {"fields": names, "limit": self.limit, "generate_ids": self.generate_ids}

    def records(self, rejects: list[RecordError] | None = None) -> Iterator[Record]:
        """The valid records (`valid_records`), fields renamed to id, prompt and response."""
        return valid_records(self.paths, rejects, self.required, spec=self)

    def chunks(self, rejects: list[RecordError] | None = None) -> Iterator[Chunk]:
        """The valid records in chunks of `chunk_records` (the last may be shorter)."""
        records: list[dict[str, Any]] = []
        locations: list[str] = []
        index = 0
        for item in self.records(rejects):
            records.append(item.fields)
            locations.append(item.location)
            if len(records) == self.chunk_records:
                yield Chunk(index, records, locations)
                index += 1
                records, locations = [], []
        if records:
            yield Chunk(index, records, locations)

    def renamed(self, fields: dict[str, Any], location: str) -> dict[str, Any]:
        """`fields` with the spec's id / prompt / response fields under the standard names."""
        names = (("id", self.id_field), ("prompt", self.prompt_field), ("response", self.response_field))
        if any(name != given for name, given in names):
            fields = {**fields, **{name: fields.get(given) for name, given in names if name != given}}
        if self.generate_ids and fields.get("id") is None:
            fields = {**fields, "id": location}
        return fields


def valid_records(
    paths: Sequence[Path],
    rejects: list[RecordError] | None = None,
    required: Sequence[str] = (),
    *,
    spec: InputSpec | None = None,
) -> Iterator[Record]:
    """Records that pass `check_input`, with unique ids (the first of a duplicate wins), in input order,
    renamed by `spec` (and at most `spec.limit` of them). Every other line is appended to `rejects` (when
    given) with its location and reason."""
    seen: set[str] = set()
    for item in iter_records(paths):
        if isinstance(item, RecordError):
            if rejects is not None:
                rejects.append(item)
            continue
        if spec is not None:
            if spec.limit is not None and len(seen) >= spec.limit:
                return
            item = Record(item.location, spec.renamed(item.fields, item.location))
        problem = check_input(item.fields, required)
        rid = item.fields.get("id")
        typed = isinstance(rid, (str, int)) and not isinstance(rid, bool)
        rid = printable_id(rid) if typed else None
        if problem is None and rid in seen:
            problem = ("id", "duplicate id (an earlier record has it)")
        if problem is not None:
            if rejects is not None:
                rejects.append(RecordError(item.location, problem[1], rid, problem[0]))
            continue
        seen.add(rid)
        yield item
