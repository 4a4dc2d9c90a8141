"""`rdpt-fast score`: one model over a corpus -> per-sentence scores (sharded Parquet), resumable."""

from __future__ import annotations

import argparse
import sys
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from rdpt_fast.cli.options import add_model_options, model_kwargs
from rdpt_fast.progress import Progress
from rdpt_fast.records import Record, RecordError, iter_records
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
        "num_tokens, prob, model) and OUTPUT/rejects.jsonl. A rerun skips ids already in the shards.",
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


def run(args: argparse.Namespace) -> int:
    from rdpt_fast.scoring import Scorer

    out_dir = Path(args.output)
    out_dir.mkdir(parents=True, exist_ok=True)
    skip, shard_number = done_ids(out_dir)
    scorer = Scorer(
        args.model,
        device=args.device,
        name=args.name,
        share_prompts=not args.no_share,
        pack=not args.no_pack,
        window=args.window,
        **model_kwargs(args),
    )
    rejected: list[RecordError] = []
    locations: deque[str] = deque()
    seen: set[str] = set()
    skipped = 0

    def todo() -> Iterator[dict[str, Any]]:
        nonlocal skipped
        for item in iter_records(args.input):
            if isinstance(item, RecordError):
                rejected.append(item)
                continue
            assert isinstance(item, Record)
            rid = item.fields.get("id")
            if rid is None:
                rejected.append(RecordError(item.location, "missing", None, "id"))
                continue
            if str(rid) in skip:
                skipped += 1
                continue
            if str(rid) in seen:
                rejected.append(RecordError(item.location, "duplicate id in the input", str(rid), "id"))
                continue
            seen.add(str(rid))
            locations.append(item.location)
            yield item.fields

    progress = Progress("rdpt-fast score", quiet=args.quiet)
    rows: list[dict[str, Any]] = []
    in_shard = scored = 0

    def flush() -> None:
        nonlocal rows, in_shard, shard_number
        if in_shard:
            with open_rows(out_dir / f"scores-{shard_number:05d}.parquet", SCHEMA) as w:
                w.write(rows)
            shard_number += 1
        rows, in_shard = [], 0

    for result in scorer.score(todo()):
        location = locations.popleft()
        if result.error is not None:
            rejected.append(RecordError(location, result.error, result.id))
            continue
        rows.extend(sentence_rows(result, scorer.name))
        in_shard += 1
        scored += 1
        if in_shard >= args.shard_records:
            flush()
        progress.update(1, scorer.stats.scored_tokens - progress.tokens)
    flush()
    progress.close()
    for err in rejected:
        print(f"rdpt-fast score: rejected {err}", file=sys.stderr)
    with open_rows(out_dir / REJECTS) as rw:
        rw.write([e.to_dict() for e in rejected])
    st = scorer.stats
    print(
        f"rdpt-fast score: {scored} scored, {len(rejected)} rejected, {skipped} already done; "
        f"{st.forwarded_tokens} tokens forwarded for {st.scored_tokens} scored",
        file=sys.stderr,
    )
    return 1 if rejected else 0
