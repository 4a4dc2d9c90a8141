"""The sentences table of a `score` run: one row per (record, sentence), flat, for `score` users.

`pyarrow.dataset.dataset(OUT / "sentences")` or `pandas.read_parquet(OUT / "sentences")` reads it whole.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from rdpt_fast.engine.schemes import RecordScores
from rdpt_fast.rdpt.join import mean_probs, nullable, sentence_texts

FLAT_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("sentence", pa.int32()),
        ("start", pa.int64()),
        ("end", pa.int64()),
        ("kind", pa.string()),
        ("text", pa.string()),
        ("sum_logprob", pa.float64()),
        ("num_tokens", pa.int32()),
        ("prob", pa.float64()),
        ("model", pa.string()),
    ]
)


def flat_sentences(items: Sequence[RecordScores], role: str, model_name: str, *, text: bool) -> pa.Table:
    """The `FLAT_SCHEMA` rows of the records of one chunk, scored by `role` (model `model_name`)."""
    cols: dict[str, list] = {name: [] for name in FLAT_SCHEMA.names if name not in ("prob", "model")}
    for item in items:
        spans, row = item.segments, item.scores[role]
        n = len(spans["starts"])
        cols["id"] += [str(item.fields["id"])] * n
        cols["sentence"] += range(n)
        cols["start"] += spans["starts"]
        cols["end"] += spans["ends"]
        cols["kind"] += spans["kinds"]
        cols["text"] += sentence_texts(item.fields["response"], spans) if text else [None] * n
        cols["sum_logprob"] += row["sum_logprob"]
        cols["num_tokens"] += row["num_tokens"]
    probs = nullable(mean_probs(cols["sum_logprob"], cols["num_tokens"]))
    models = [model_name] * len(cols["id"])
    return pa.Table.from_pydict({**cols, "prob": probs, "model": models}, schema=FLAT_SCHEMA)
