"""`rdpt-fast score`: one model over a corpus -> per-sentence scores (sharded Parquet), resumable."""

from __future__ import annotations

import argparse
import sys
import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

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
    p.add_argument(
        "--template",
        default="auto",
        help="'auto' (the tokenizer's chat template, else raw), 'none' (raw prompt + response), "
        "a Jinja chat template file, or an inline Jinja template",
    )
    p.add_argument("--dtype", default="auto", help="auto, float32, bfloat16, float16")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N")
    p.add_argument("--attn-implementation", default="auto", help="auto, sdpa, eager, flash_attention_2")
    p.add_argument("--max-tokens", type=int, default=16384, help="token budget of one forward pass")
    p.add_argument("--window", type=int, default=256, help="records planned together (sharing, packing)")
    p.add_argument("--shard-records", type=int, default=2000, help="records per output shard")
    p.add_argument("--name", help="model name (default: the model folder's name); matches logprobs_model")
    p.add_argument("--mode", choices=["fast", "reference"], default="fast")
    p.add_argument("--no-share", action="store_true", help="do not share prompt KV across responses")
    p.add_argument("--no-pack", action="store_true", help="do not pack short traces into one row")
    p.add_argument("--head-backend", default="auto", choices=["auto", "triton", "torch", "reference"])
    p.add_argument("--trust-remote-code", action="store_true")
    p.set_defaults(run=run)


def template_arg(value: str) -> str | None:
    if value == "auto":
        return "auto"
    if value.lower() == "none":
        return None
    if "{{" in value or "{%" in value:
        return value  # an inline Jinja template
    path = Path(value)
    if not path.is_file():
        raise FileNotFoundError(
            f"--template {value}: not 'auto', 'none', a Jinja template or a template file"
        )
    return path.read_text(encoding="utf-8")


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


class Progress:
    """Records, tokens and tokens/s on stderr, at most every `every` seconds."""

    def __init__(self, every: float = 2.0):
        self.t0 = time.perf_counter()
        self.last = 0.0
        self.every = every

    def show(self, records: int, tokens: int, final: bool = False) -> None:
        now = time.perf_counter() - self.t0
        if not final and now - self.last < self.every:
            return
        self.last = now
        rate = tokens / now if now > 0 else 0.0
        end = "\n" if final or not sys.stderr.isatty() else "\r"
        print(
            f"rdpt-fast score: {records} records, {tokens} tokens, {rate:,.0f} tokens/s",
            end=end,
            file=sys.stderr,
        )


def run(args: argparse.Namespace) -> int:
    from rdpt_fast.scoring import Scorer

    out_dir = Path(args.output)
    out_dir.mkdir(parents=True, exist_ok=True)
    skip, shard_number = done_ids(out_dir)
    scorer = Scorer(
        args.model,
        device=args.device,
        dtype=args.dtype,
        template=template_arg(args.template),
        attn_implementation=args.attn_implementation,
        max_tokens_per_batch=args.max_tokens,
        head_backend=args.head_backend,
        name=args.name,
        mode=args.mode,
        share_prompts=not args.no_share,
        pack=not args.no_pack,
        window=args.window,
        trust_remote_code=args.trust_remote_code,
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

    progress = Progress()
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
        progress.show(scored, scorer.stats.scored_tokens)
    flush()
    progress.show(scored, scorer.stats.scored_tokens, final=True)
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
