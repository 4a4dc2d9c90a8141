"""One role's scores: `scores/<role>/part-NNNNN.parquet`, one row per record, and what a role pass did.

The shard of chunk k holds, for every record of the chunk that has spans, this model's per-sentence sums
and token counts (or why it could not score the record); the spans are the run's (`segments/`). Shards
are written whole and listed in the manifest; a rerun skips the chunks that are complete. Every executor
writes through `write_scores`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from rdpt_fast.engine.folder import RunFolder
from rdpt_fast.engine.inputs import Chunk
from rdpt_fast.engine.sources import RecordView
from rdpt_fast.progress import Progress
from rdpt_fast.scoring.types import ScoredRecord
from rdpt_fast.writers import open_rows

SCORES_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("error", pa.string()),
        ("sum_logprob", pa.list_(pa.float64())),
        ("num_tokens", pa.list_(pa.int32())),
        ("num_prompt_tokens", pa.int64()),
        ("num_response_tokens", pa.int64()),
        ("source", pa.string()),
    ]
)


def scores_stage(role: str) -> str:
    """Manifest stage name of one role's score shards."""
    return f"scores/{role}"


def scores_row(result: ScoredRecord) -> dict[str, Any]:
    failed = result.error is not None
    return {
        "id": result.id,
        "error": result.error,
        "sum_logprob": [] if failed else result.sum_logprob.tolist(),
        "num_tokens": [] if failed else result.num_tokens.tolist(),
        "num_prompt_tokens": result.num_prompt_tokens,
        "num_response_tokens": result.num_response_tokens,
        "source": result.source,
    }


def write_scores(folder: RunFolder, role: str, chunk: int, results: Iterable[ScoredRecord]) -> int:
    """Write and mark the shard of chunk `chunk` of `role`; returns its rows."""
    rows = [scores_row(r) for r in results]
    path = folder.scores_path(role, chunk)
    with open_rows(path, SCORES_SCHEMA) as w:
        w.write(rows)
    folder.mark(scores_stage(role), chunk, [path], records=len(rows))
    return len(rows)


def read_scores(path: Path) -> dict[str, dict[str, Any]]:
    """A role's score shard as {record id: row}; empty when the shard does not exist."""
    if not path.exists():
        return {}
    return {row["id"]: row for row in pq.read_table(path).to_pylist()}


@dataclass
class PassSummary:
    """What one role's pass did in this invocation (chunks done before are counted as skipped only), and
    the model that did it (`sources.model_info`; empty when nothing was left to score)."""

    role: str
    device: str = ""
    chunks_scored: int = 0
    chunks_skipped: int = 0
    records: int = 0
    errors: int = 0
    scored_tokens: int = 0
    forwarded_tokens: int = 0
    seconds: float = 0.0
    wall_seconds: float = 0.0
    units: int | None = None  # Ray only: work units scored
    model: dict[str, Any] = field(default_factory=dict)

    def timings(self) -> dict[str, Any]:
        """The pass as run.json's timings.passes entry."""
        out = {k: v for k, v in asdict(self).items() if k != "model"}
        out["name"] = self.model.get("name", self.role)
        if self.units is None:
            del out["units"]
        return out


def score_chunks(
    folder: RunFolder,
    role: str,
    scorer: Any,
    view: RecordView,
    chunks: Iterator[Chunk],
    summary: PassSummary,
    progress: Progress,
) -> None:
    """Score every chunk of `chunks` with `scorer` (a `Scorer`) in this process, adding to `summary`."""
    stats = scorer.stats
    for chunk in chunks:
        before = stats.scored_tokens, stats.forwarded_tokens, stats.seconds
        results, last = [], before[0]
        for result in scorer.score([view(r) for r in chunk.records]):
            results.append(result)
            summary.errors += result.error is not None
            progress.update(1, stats.scored_tokens - last)
            last = stats.scored_tokens
        write_scores(folder, role, chunk.index, results)
        summary.chunks_scored += 1
        summary.records += len(results)
        summary.scored_tokens += stats.scored_tokens - before[0]
        summary.forwarded_tokens += stats.forwarded_tokens - before[1]
        summary.seconds += stats.seconds - before[2]
