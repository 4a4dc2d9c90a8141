"""One model over a run's input: `scores/<role>/part-NNNNN.parquet`, one row per record, resumable.

The shard of chunk k holds, for every record of the chunk, this model's per-sentence sums and token counts
(or why it could not score the record). Shards are written whole and listed in the manifest; a rerun
skips the chunks that are complete.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from rdpt_fast.progress import Progress
from rdpt_fast.rdpt.inputs import Chunk
from rdpt_fast.rdpt.store import RunFolder
from rdpt_fast.scoring.types import ScoredRecord
from rdpt_fast.segments import KIND_NAMES
from rdpt_fast.writers import open_rows

SCORES_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("error", pa.string()),
        ("starts", pa.list_(pa.int64())),
        ("ends", pa.list_(pa.int64())),
        ("kinds", pa.list_(pa.string())),
        ("sum_logprob", pa.list_(pa.float64())),
        ("num_tokens", pa.list_(pa.int32())),
        ("num_prompt_tokens", pa.int64()),
        ("num_response_tokens", pa.int64()),
        ("source", pa.string()),
    ]
)


def scores_stage(role: str) -> str:
    """Manifest stage name of one model's score shards."""
    return f"scores/{role}"


#: A record as one model should see it (e.g. precomputed log-probs renamed for that model).
RecordView = Callable[[dict[str, Any]], dict[str, Any]]


def scores_row(result: ScoredRecord) -> dict[str, Any]:
    segs = result.segments
    empty = result.error is not None or segs is None
    return {
        "id": result.id,
        "error": result.error,
        "starts": [] if empty else segs.starts.tolist(),
        "ends": [] if empty else segs.ends.tolist(),
        "kinds": [] if empty else [KIND_NAMES[k] for k in segs.kinds.tolist()],
        "sum_logprob": [] if empty else result.sum_logprob.tolist(),
        "num_tokens": [] if empty else result.num_tokens.tolist(),
        "num_prompt_tokens": result.num_prompt_tokens,
        "num_response_tokens": result.num_response_tokens,
        "source": result.source,
    }


@dataclass
class RoleRun:
    """What one model's pass did (this invocation only: resumed chunks are not counted)."""

    role: str
    name: str
    chunks_scored: int = 0
    chunks_skipped: int = 0
    records: int = 0
    errors: int = 0
    scored_tokens: int = 0
    forwarded_tokens: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def score_role(
    folder: RunFolder,
    role: str,
    scorer: Any,
    chunks: Iterator[Chunk],
    *,
    view: RecordView | None = None,
    progress: Progress,
) -> RoleRun:
    """Score every chunk of `chunks` not yet complete for `role` with `scorer` (a `Scorer`)."""
    stage = scores_stage(role)
    done = folder.done(stage)
    run = RoleRun(role, scorer.name)
    for chunk in chunks:
        if chunk.index in done:
            run.chunks_skipped += 1
            progress.update(len(chunk.records))
            continue
        before = scorer.stats.scored_tokens, scorer.stats.forwarded_tokens, scorer.stats.seconds
        records = chunk.records if view is None else [view(r) for r in chunk.records]
        rows = []
        last_tokens = before[0]
        for result in scorer.score(records):
            rows.append(scores_row(result))
            run.errors += result.error is not None
            progress.update(1, scorer.stats.scored_tokens - last_tokens)
            last_tokens = scorer.stats.scored_tokens
        path = folder.scores_path(role, chunk.index)
        with open_rows(path, SCORES_SCHEMA) as w:
            w.write(rows)
        folder.mark(stage, chunk.index, [path], records=len(rows))
        run.chunks_scored += 1
        run.records += len(rows)
        run.scored_tokens += scorer.stats.scored_tokens - before[0]
        run.forwarded_tokens += scorer.stats.forwarded_tokens - before[1]
        run.seconds += scorer.stats.seconds - before[2]
    return run
