"""Join the roles' scores of one chunk into the `sentences` and `records` tables of a trace or select run,
and label them.

Labels are applied to a sentences table by `apply_labels` and counted per record by `record_counts`; the
join and relabelling (`classify_folder`) share both, so a relabelled folder is exactly what a run with
those thresholds would have written.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from rdpt_fast.engine.schemes import DELTA_TERMS, RecordScores, Scheme
from rdpt_fast.scoring.prepare import KNOWN_FIELDS

#: Fields that are columns of their own or too large to copy into `records.fields`.
NOT_PASSED = (*KNOWN_FIELDS, "question_id", "correct")


def sentences_schema(scheme: Scheme) -> pa.Schema:
    fields = [
        ("id", pa.string()),
        ("question_id", pa.string()),
        ("sentence", pa.int32()),
        ("num_sentences", pa.int32()),
        ("position", pa.float64()),
        ("start", pa.int64()),
        ("end", pa.int64()),
        ("kind", pa.string()),
        ("text", pa.string()),
    ]
    for role in scheme.roles:
        fields += [
            (f"{role}_sum_logprob", pa.float64()),
            (f"{role}_num_tokens", pa.int32()),
            (f"{role}_prob", pa.float64()),
        ]
    fields += [(d, pa.float64()) for d in scheme.deltas]
    fields += [("label", pa.string()), ("correct", pa.bool_())]
    return pa.schema(fields)


def records_schema(scheme: Scheme) -> pa.Schema:
    fields = [
        ("id", pa.string()),
        ("question_id", pa.string()),
        ("correct", pa.bool_()),
        ("num_sentences", pa.int32()),
        ("response_chars", pa.int64()),
    ]
    fields += [(f"{role}_num_tokens", pa.int64()) for role in scheme.roles]
    if scheme.kind == "select":
        fields.append(("student_mean_logprob", pa.float64()))
    fields.append(("fields", pa.string()))
    return pa.schema(fields + count_fields(scheme))


def count_fields(scheme: Scheme) -> list[tuple[str, pa.DataType]]:
    fields = [("num_labelled", pa.int32())]
    fields += [(f"n_{name}", pa.int32()) for name in scheme.labels]
    fields += [(f"share_{name}", pa.float64()) for name in scheme.labels if name != "unscored"]
    return fields


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def join_records(
    items: Sequence[RecordScores],
    scheme: Scheme,
    *,
    alpha: float,
    beta: float,
    text: bool = False,
    include_markers: bool = False,
    drop_fields: Sequence[str] = (),
) -> tuple[pa.Table, pa.Table]:
    """The sentences and records tables (labels applied) of the records of one chunk."""
    cols: dict[str, list] = {name: [] for name in sentences_schema(scheme).names}
    rec_rows: list[dict[str, Any]] = []
    not_passed = set(NOT_PASSED) | set(drop_fields)
    for item in items:
        fields, spans, rows = item.fields, item.segments, item.scores
        rid = str(fields["id"])
        n = len(spans["starts"])
        qid, correct = _opt_str(fields.get("question_id")), fields.get("correct")
        response = fields["response"]
        cols["id"] += [rid] * n
        cols["question_id"] += [qid] * n
        cols["sentence"] += range(n)
        cols["num_sentences"] += [n] * n
        cols["position"] += [i / (n - 1) for i in range(n)] if n > 1 else [0.0] * n
        cols["start"] += spans["starts"]
        cols["end"] += spans["ends"]
        cols["kind"] += spans["kinds"]
        cols["text"] += sentence_texts(response, spans) if text else [None] * n
        cols["correct"] += [correct] * n
        for role, row in rows.items():
            cols[f"{role}_sum_logprob"] += row["sum_logprob"]
            cols[f"{role}_num_tokens"] += row["num_tokens"]
        record = {
            "id": rid,
            "question_id": qid,
            "correct": correct,
            "num_sentences": n,
            "response_chars": len(response),
            "fields": json.dumps({k: v for k, v in fields.items() if k not in not_passed}, default=str),
        }
        for role, row in rows.items():
            record[f"{role}_num_tokens"] = row["num_response_tokens"]
        if scheme.kind == "select":
            tokens = sum(rows["student"]["num_tokens"])
            record["student_mean_logprob"] = sum(rows["student"]["sum_logprob"]) / tokens if tokens else None
        rec_rows.append(record)
    probs = {}
    for role in scheme.roles:
        probs[role] = mean_probs(cols[f"{role}_sum_logprob"], cols[f"{role}_num_tokens"])
        cols[f"{role}_prob"] = nullable(probs[role])
    for name in scheme.deltas:
        a, b = DELTA_TERMS[name]
        cols[name] = nullable(probs[a] - probs[b])
    cols["label"] = [None] * len(cols["id"])
    sentences = pa.Table.from_pydict(cols, schema=sentences_schema(scheme))
    sentences = apply_labels(sentences, scheme, alpha=alpha, beta=beta)
    base = pa.Table.from_pylist(rec_rows, schema=_base_records_schema(scheme))
    return sentences, with_counts(base, sentences, scheme, include_markers=include_markers)


def sentence_texts(response: str, spans: Mapping[str, list]) -> list[str]:
    """The text of each sentence of a segments row."""
    return [response[a:b] for a, b in zip(spans["starts"], spans["ends"])]


def mean_probs(sums: Sequence[float], counts: Sequence[int]) -> np.ndarray:
    """exp(sum / count) per sentence (the geometric mean token probability); NaN where count is 0."""
    s = np.asarray(sums, dtype=np.float64)
    n = np.asarray(counts, dtype=np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n > 0, np.exp(s / np.maximum(n, 1)), np.nan)


def nullable(values: np.ndarray) -> pa.Array:
    """A float64 Arrow array with NaN as null."""
    return pa.array(values, type=pa.float64(), from_pandas=True)  # NaN -> null


def _base_records_schema(scheme: Scheme) -> pa.Schema:
    count_names = {name for name, _ in count_fields(scheme)}
    return pa.schema([f for f in records_schema(scheme) if f.name not in count_names])


def probabilities(sentences: pa.Table, scheme: Scheme) -> dict[str, np.ndarray]:
    """Per role probabilities of a sentences table, NaN where null (unscored)."""
    return {
        role: sentences.column(f"{role}_prob").to_numpy(zero_copy_only=False).astype(np.float64)
        for role in scheme.roles
    }


def apply_labels(sentences: pa.Table, scheme: Scheme, *, alpha: float, beta: float) -> pa.Table:
    """`sentences` with its `label` column (re)computed from the probabilities."""
    codes = scheme.label(probabilities(sentences, scheme), alpha, beta)
    names = pa.array(np.asarray(scheme.labels, dtype=object)[codes.astype(np.intp)], type=pa.string())
    return sentences.set_column(sentences.schema.get_field_index("label"), "label", names)


def with_counts(records: pa.Table, sentences: pa.Table, scheme: Scheme, *, include_markers: bool) -> pa.Table:
    """`records` (without count columns) with num_labelled, n_<label> and share_<label> from the labels of
    `sentences`. Markers are not counted unless `include_markers`; unscored sentences are counted in
    n_unscored only."""
    rows = pc.index_in(sentences.column("id"), value_set=records.column("id")).to_numpy(zero_copy_only=False)
    codes = pc.index_in(sentences.column("label"), value_set=pa.array(scheme.labels)).to_numpy(
        zero_copy_only=False
    )
    counted = np.ones(len(rows), dtype=bool)
    if not include_markers:
        counted = ~pc.equal(sentences.column("kind"), "marker").to_numpy(zero_copy_only=False)
    counts = np.zeros((records.num_rows, len(scheme.labels)), dtype=np.int64)
    np.add.at(counts, (rows[counted].astype(np.intp), codes[counted].astype(np.intp)), 1)
    code = {name: i for i, name in enumerate(scheme.labels)}
    labelled = counts.sum(axis=1) - counts[:, scheme.unscored]
    out = records
    out = out.append_column(pa.field("num_labelled", pa.int32()), pa.array(labelled, type=pa.int32()))
    for name, i in code.items():
        out = out.append_column(pa.field(f"n_{name}", pa.int32()), pa.array(counts[:, i], type=pa.int32()))
    for name, i in code.items():
        if name == "unscored":
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(labelled > 0, counts[:, i] / np.maximum(labelled, 1), np.nan)
        out = out.append_column(pa.field(f"share_{name}", pa.float64()), nullable(share))
    return out
