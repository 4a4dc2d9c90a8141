"""`rdpt-fast score`: one model over a corpus -> per-sentence scores (sharded Parquet), resumable."""

from __future__ import annotations

import argparse
import sys
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from rdpt_fast.cli.options import add_executor_options, add_model_options, executor_kwargs, model_kwargs
from rdpt_fast.progress import Progress
from rdpt_fast.rdpt.inputs import valid_records
from rdpt_fast.records import Record, RecordError
from rdpt_fast.writers import open_rows

SHARD_GLOB = "scores-*.parquet"
REJECTS = "rejects.jsonl"

SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("sentence", pa.int32()),
        ("start", pa.int64()),
        ("end", pa.int64()),
        ("kind", pa.string()),
        ("sum_logprob", pa.float64()),
        ("num_tokens", pa.int32()),
        ("prob", pa.float64()),
        ("model", pa.string()),
    ]
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "score",
        help="score every sentence of a corpus under one model (Parquet)",
        description="Per-sentence log-probs of every record's response under one causal LM, one forward pass "
        "per trace. Writes OUTPUT/scores-NNNNN.parquet shards (id, sentence, start, end, kind, sum_logprob, "
        "num_tokens, prob, model) and OUTPUT/rejects.jsonl. A rerun skips ids already in the shards. "
        "--executor ray scores on a Ray cluster (docs/scaling.md).",
    )
    p.add_argument("--model", required=True, help="local model directory (or hub id where a network exists)")
    p.add_argument("--input", nargs="+", required=True, metavar="FILE", help="JSONL, JSONL.gz or Parquet")
    p.add_argument("--output", "-o", required=True, metavar="DIR", help="output folder")
    p.add_argument("--window", type=int, default=256, help="records planned together (sharing, packing)")
    p.add_argument("--shard-records", type=int, default=2000, help="records per output shard")
    p.add_argument("--name", help="model name (default: the model folder's name); matches logprobs_model")
    p.add_argument("--no-share", action="store_true", help="do not share prompt KV across responses")
    p.add_argument("--no-pack", action="store_true", help="do not pack short traces into one row")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress line")
    add_model_options(p)
    add_executor_options(p)
    p.set_defaults(run=run)


def done_ids(out_dir: Path) -> tuple[set[str], int]:
    """Record ids already in the output shards, and the next shard number."""
    ids: set[str] = set()
    shards = sorted(out_dir.glob(SHARD_GLOB))
    for shard in shards:
        ids.update(pq.read_table(shard, columns=["id"]).column("id").to_pylist())
    next_number = 1 + max((int(s.stem.split("-")[1]) for s in shards), default=-1)
    return ids, next_number


def sentence_rows(result: Any, model_name: str) -> list[dict[str, Any]]:
    probs = result.prob
    return [
        {
            "id": result.id,
            "sentence": i,
            "start": seg.start,
            "end": seg.end,
            "kind": seg.kind,
            "sum_logprob": float(result.sum_logprob[i]),
            "num_tokens": int(result.num_tokens[i]),
            "prob": probs[i],
            "model": model_name,
        }
        for i, seg in enumerate(result.segments)
    ]


@dataclass
class Outcome:
    """What a `score` invocation did: records scored, records rejected (input and scoring), records whose
    id was already in the output, and tokens forwarded / scored."""

    scored: int = 0
    rejected: list[RecordError] = field(default_factory=list)
    skipped: int = 0
    forwarded_tokens: int = 0
    scored_tokens: int = 0


@dataclass
class Pending:
    """The records of `inputs` still to score, in input order: the valid stream of a run
    (`rdpt_fast.rdpt.inputs.valid_records`: unreadable lines, records with a missing or wrong-typed field and
    repeated ids go to `rejected`) without the ids in `skip`, which `skipped` counts."""

    inputs: Sequence[str]
    skip: set[str] | frozenset[str]
    rejected: list[RecordError]
    skipped: int = 0

    def __iter__(self) -> Iterator[Record]:
        for item in valid_records([Path(p) for p in self.inputs], self.rejected):
            if str(item.fields["id"]) in self.skip:
                self.skipped += 1
                continue
            yield item


def scorer_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """Scorer keywords of the command line (the device excluded)."""
    return {
        "name": args.name,
        "share_prompts": False if args.no_share else "auto",
        "pack": not args.no_pack,
        "window": args.window,
        **model_kwargs(args),
    }


def write_shard(out_dir: Path, number: int, rows: list[dict[str, Any]]) -> None:
    with open_rows(out_dir / f"scores-{number:05d}.parquet", SCHEMA) as w:
        w.write(rows)


def run(args: argparse.Namespace) -> int:
    executor = executor_kwargs(args)
    out_dir = Path(args.output)
    out_dir.mkdir(parents=True, exist_ok=True)
    skip, shard_number = done_ids(out_dir)
    if executor["executor"] == "ray":
        from rdpt_fast.distributed.score_command import score_on_ray

        outcome = score_on_ray(args, out_dir, skip, shard_number)
    else:
        outcome = score_here(args, out_dir, skip, shard_number)
    for err in outcome.rejected:
        print(f"rdpt-fast score: rejected {err}", file=sys.stderr)
    with open_rows(out_dir / REJECTS) as rw:
        rw.write([e.to_dict() for e in outcome.rejected])
    print(
        f"rdpt-fast score: {outcome.scored} scored, {len(outcome.rejected)} rejected, "
        f"{outcome.skipped} already done; "
        f"{outcome.forwarded_tokens} tokens forwarded for {outcome.scored_tokens} scored",
        file=sys.stderr,
    )
    return 1 if outcome.rejected else 0


def score_here(args: argparse.Namespace, out_dir: Path, skip: set[str], shard_number: int) -> Outcome:
    """Score in this process, shards of `--shard-records` scored records numbered from `shard_number`."""
    from rdpt_fast.scoring import Scorer

    scorer = Scorer(args.model, device=args.device, **scorer_kwargs(args))
    outcome = Outcome()
    pending = Pending(args.input, skip, outcome.rejected)
    locations: deque[str] = deque()

    def todo() -> Iterator[dict[str, Any]]:
        for record in pending:
            locations.append(record.location)
            yield record.fields

    progress = Progress("rdpt-fast score", quiet=args.quiet)
    rows: list[dict[str, Any]] = []
    in_shard = 0
    for result in scorer.score(todo()):
        location = locations.popleft()
        if result.error is not None:
            outcome.rejected.append(RecordError(location, result.error, result.id))
            continue
        rows.extend(sentence_rows(result, scorer.name))
        in_shard += 1
        outcome.scored += 1
        if in_shard >= args.shard_records:
            write_shard(out_dir, shard_number, rows)
            shard_number += 1
            rows, in_shard = [], 0
        progress.update(1, scorer.stats.scored_tokens - progress.tokens)
    if in_shard:
        write_shard(out_dir, shard_number, rows)
    progress.close()
    outcome.skipped = pending.skipped
    outcome.forwarded_tokens = scorer.stats.forwarded_tokens
    outcome.scored_tokens = scorer.stats.scored_tokens
    return outcome
