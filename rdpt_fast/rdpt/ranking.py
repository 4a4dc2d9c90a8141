"""Teacher-guided data selection: rank the candidates of each question and keep the best K.

Each strategy maps a candidate (a row of the select run's `records` table) to a score, higher is better;
ties go to the candidate that came first in the input. Strategies:

- max-teacher-count (default, the paper's): the number of Teacher sentences (d_TS > beta)
- min-teacher-count: minus that number
- max-teacher-ratio: Teacher sentences / labelled sentences
- longest: response tokens under the teacher's tokenizer
- random: a uniform number from a hash of (seed, record id), independent of input order
- max-student-likelihood (GRAPE-style): the student's mean token log-prob over the response
A candidate whose score is undefined (no labelled sentence, no scored token) ranks last.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from rdpt_fast.engine.folder import RunFolder
from rdpt_fast.engine.inputs import InputSpec
from rdpt_fast.writers import open_rows

Strategy = Literal[
    "max-teacher-count",
    "min-teacher-count",
    "max-teacher-ratio",
    "longest",
    "random",
    "max-student-likelihood",
]
STRATEGIES: tuple[str, ...] = get_args(Strategy)
QUESTIONS = "questions.parquet"
SELECTED_JSONL = "selected.jsonl"
SELECTED_PARQUET = "selected.parquet"
#: Key of the selection statistics added to every selected record.
STATS_KEY = "rdpt_selection"
CANDIDATE_COLUMNS = (
    "id",
    "question_id",
    "n_common",
    "n_teacher",
    "n_student",
    "n_unscored",
    "share_teacher",
    "response_chars",
    "teacher_num_tokens",
    "student_mean_logprob",
)

QUESTIONS_SCHEMA = pa.schema(
    [
        ("question_id", pa.string()),
        ("id", pa.string()),
        ("strategy", pa.string()),
        ("score", pa.float64()),
        ("rank", pa.int32()),
        ("selected", pa.bool_()),
        ("n_common", pa.int32()),
        ("n_teacher", pa.int32()),
        ("n_student", pa.int32()),
        ("n_unscored", pa.int32()),
        ("teacher_ratio", pa.float64()),
        ("response_chars", pa.int64()),
        ("teacher_num_tokens", pa.int64()),
        ("student_mean_logprob", pa.float64()),
    ]
)


def random_key(seed: int, record_id: str) -> float:
    """A uniform number in [0, 1) from (seed, id): the same record gets the same number in any order."""
    digest = hashlib.blake2b(f"{seed}\x00{record_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") / 2**64


def strategy_scores(candidates: dict[str, np.ndarray], strategy: str, seed: int) -> np.ndarray:
    """Score per candidate (float64, NaN = undefined) from the candidate columns."""
    if strategy == "max-teacher-count":
        return candidates["n_teacher"].astype(np.float64)
    if strategy == "min-teacher-count":
        return -candidates["n_teacher"].astype(np.float64)
    if strategy == "max-teacher-ratio":
        return candidates["share_teacher"].astype(np.float64)
    if strategy == "longest":
        return candidates["teacher_num_tokens"].astype(np.float64)
    if strategy == "random":
        return np.asarray([random_key(seed, rid) for rid in candidates["id"]], dtype=np.float64)
    if strategy == "max-student-likelihood":
        return candidates["student_mean_logprob"].astype(np.float64)
    raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)}, got {strategy!r}")


def rank_within_groups(groups: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Rank (1 = best) of each candidate within its group: higher score first, NaN last, ties by position."""
    order = np.lexsort((np.arange(scores.size), -np.nan_to_num(scores, nan=0.0), np.isnan(scores), groups))
    ranks = np.empty(scores.size, dtype=np.int32)
    sorted_groups = groups[order]
    starts = np.r_[0, np.flatnonzero(sorted_groups[1:] != sorted_groups[:-1]) + 1]
    position = np.arange(scores.size) - np.repeat(starts, np.diff(np.r_[starts, scores.size]))
    ranks[order] = position + 1
    return ranks


def read_candidates(folder: RunFolder, chunks: list[int]) -> dict[str, np.ndarray]:
    """The candidate columns of every records shard, in input order."""
    tables = [pq.read_table(folder.records_path(k), columns=list(CANDIDATE_COLUMNS)) for k in chunks]
    if not tables:
        return {name: np.zeros(0) for name in CANDIDATE_COLUMNS}
    table = pa.concat_tables(tables)
    return {name: table.column(name).to_numpy(zero_copy_only=False) for name in CANDIDATE_COLUMNS}


@dataclass
class Selection:
    """The ranking of every candidate; `selected_ids` are those with rank <= keep."""

    table: pa.Table

    @property
    def selected_ids(self) -> set[str]:
        mask = self.table.column("selected").to_numpy(zero_copy_only=False)
        return {rid for rid, keep in zip(self.table.column("id").to_pylist(), mask) if keep}

    @property
    def num_questions(self) -> int:
        return len(set(self.table.column("question_id").to_pylist()))


def select_candidates(folder: RunFolder, chunks: list[int], strategy: str, keep: int, seed: int) -> Selection:
    """Rank the candidates of each question by `strategy`; the best `keep` of each are selected."""
    if keep < 1:
        raise ValueError(f"keep must be at least 1, got {keep}")
    c = read_candidates(folder, chunks)
    scores = strategy_scores(c, strategy, seed)
    qids = c["question_id"].astype(object)
    _, groups = np.unique(qids.astype(str), return_inverse=True)
    ranks = rank_within_groups(groups, scores)
    table = pa.Table.from_pydict(
        {
            "question_id": qids.tolist(),
            "id": c["id"].tolist(),
            "strategy": [strategy] * len(ranks),
            "score": pa.array(scores, type=pa.float64(), from_pandas=True),
            "rank": ranks,
            "selected": ranks <= keep,
            "n_common": c["n_common"],
            "n_teacher": c["n_teacher"],
            "n_student": c["n_student"],
            "n_unscored": c["n_unscored"],
            "teacher_ratio": pa.array(c["share_teacher"].astype(np.float64), from_pandas=True),
            "response_chars": c["response_chars"],
            "teacher_num_tokens": c["teacher_num_tokens"],
            "student_mean_logprob": pa.array(c["student_mean_logprob"].astype(np.float64), from_pandas=True),
        },
        schema=QUESTIONS_SCHEMA,
    )
    return Selection(table)


def _stats(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in QUESTIONS_SCHEMA.names if k not in ("question_id", "id", "selected")}


def selected_records(spec: InputSpec, selection: Selection) -> Iterator[dict[str, Any]]:
    """The selected input records, in input order, with all their fields and the selection statistics
    under `STATS_KEY`."""
    by_id = {row["id"]: row for row in selection.table.to_pylist() if row["selected"]}
    for item in spec.records():
        rid = str(item.fields["id"])
        if rid in by_id:
            yield {**item.fields, STATS_KEY: _stats(by_id[rid])}


def write_selected(out: Path, spec: InputSpec, selection: Selection, batch: int = 512) -> str | None:
    """selected.jsonl (always) and selected.parquet (one schema unified over all selected records).
    Returns why the Parquet file could not be written (fields with conflicting types), else None."""
    schemas = []
    with open_rows(out / SELECTED_JSONL) as w:
        rows: list[dict[str, Any]] = []
        for record in selected_records(spec, selection):
            rows.append(record)
            if len(rows) == batch:
                w.write(rows)
                schemas.append(pa.Table.from_pylist(rows).schema)
                rows = []
        w.write(rows)
        if rows:
            schemas.append(pa.Table.from_pylist(rows).schema)
    try:
        schema = pa.unify_schemas(schemas, promote_options="permissive") if schemas else None
    except (pa.ArrowInvalid, pa.ArrowTypeError) as e:
        (out / SELECTED_PARQUET).unlink(missing_ok=True)
        return f"selected.parquet not written: the selected records' fields have conflicting types ({e})"
    empty = pa.schema([("id", pa.string())])
    with (
        open_rows(out / SELECTED_PARQUET, schema or empty) as w,
        open(out / SELECTED_JSONL, encoding="utf-8") as f,
    ):
        rows = []
        for line in f:
            rows.append(json.loads(line))
            if len(rows) == batch:
                w.write(rows)
                rows = []
        w.write(rows)
    return None
