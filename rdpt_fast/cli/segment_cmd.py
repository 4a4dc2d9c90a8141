"""`rdpt-fast segment`: text from stdin, or a corpus, into sentence spans."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator
from itertools import islice
from typing import Any

import pyarrow as pa

from rdpt_fast.engine.inputs import printable_id
from rdpt_fast.records import Record, RecordError, iter_records, record_id
from rdpt_fast.segmentation import DEFAULT_MARKERS, RULESETS, segment, segment_batch
from rdpt_fast.segments import Segments
from rdpt_fast.writers import open_rows

BATCH_RECORDS = 512

SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("num_segments", pa.int32()),
        ("starts", pa.list_(pa.int64())),
        ("ends", pa.list_(pa.int64())),
        ("kinds", pa.list_(pa.string())),
    ]
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "segment",
        help="split texts into sentences (spans in code points)",
        description="Segment text from stdin, or every record of --input files, into sentences. "
        "Output: JSON lines (or Parquet when --output ends in .parquet) with starts, ends (code points) "
        "and kinds per record. Records that cannot be segmented are reported on stderr (and in --rejects) "
        "and the run goes on; the exit status is then 1.",
    )
    p.add_argument(
        "--input", nargs="+", metavar="FILE", help="JSONL, JSONL.gz or Parquet files (default: stdin text)"
    )
    p.add_argument("--field", default="response", help="field holding the text (default: response)")
    p.add_argument("--id-field", default="id", help="field holding the record id (default: id)")
    p.add_argument(
        "--output", "-o", metavar="PATH", help="output file (.jsonl, .jsonl.gz, .parquet); default stdout"
    )
    p.add_argument(
        "--rejects", metavar="PATH", help="write rejected records (location, id, error) as JSON lines"
    )
    p.add_argument(
        "--rules",
        choices=list(RULESETS),
        default="reasoning",
        help="ruleset (default: reasoning = reasoning-v2, the latest; reasoning-v1 reproduces earlier runs)",
    )
    p.add_argument("--pattern", metavar="REGEX", help="custom boundary pattern: each match ends a segment")
    p.add_argument(
        "--markers", nargs="*", metavar="M", help=f"marker strings (default: {' '.join(DEFAULT_MARKERS)})"
    )
    p.add_argument(
        "--min-chars", type=int, default=0, help="merge text segments shorter than this (non-space chars)"
    )
    p.add_argument(
        "--backend",
        choices=["cpp", "reference"],
        default="cpp",
        help="cpp: the C++ core; reference: the pure-Python implementation (default: cpp)",
    )
    p.add_argument("--threads", type=int, default=0, help="threads across texts (0: all cores)")
    p.add_argument("--with-text", action="store_true", help="include each segment's text in the output")
    p.add_argument("--show", action="store_true", help="print the sentences, one per line, instead of spans")
    p.set_defaults(run=run)


def options(args: argparse.Namespace) -> dict[str, Any]:
    rules: Any = re.compile(args.pattern) if args.pattern else args.rules
    return {"rules": rules, "markers": args.markers, "min_chars": args.min_chars, "backend": args.backend}


def show(text: str, segs: Segments) -> None:
    """Print one line per segment: index, kind, span and the text as a JSON string."""
    for i, (seg, piece) in enumerate(zip(segs, segs.texts(text))):
        sys.stdout.write(
            f"{i:>4} {seg.kind:<6} [{seg.start}, {seg.end}) {json.dumps(piece, ensure_ascii=False)}\n"
        )


def row(rid: str, text: str, segs: Segments, with_text: bool) -> dict[str, Any]:
    r: dict[str, Any] = {"id": rid, "num_segments": len(segs), **segs.to_dict()}
    if with_text:
        r["texts"] = segs.texts(text)
    return r


def batches(records: Iterator[Record | RecordError], n: int) -> Iterator[list[Record | RecordError]]:
    while batch := list(islice(records, n)):
        yield batch


def run(args: argparse.Namespace) -> int:
    if args.threads < 0 or args.min_chars < 0:
        print("rdpt-fast segment: --threads and --min-chars must be >= 0", file=sys.stderr)
        return 2
    opts = options(args)
    schema = SCHEMA.append(pa.field("texts", pa.list_(pa.string()))) if args.with_text else SCHEMA
    if not args.input:
        text = sys.stdin.read()
        segs = segment(text, **opts)
        if args.show:
            show(text, segs)
        else:
            with open_rows(args.output, schema) as w:
                w.write([row("stdin", text, segs, args.with_text)])
        return 0
    rejected: list[RecordError] = []
    total = 0
    with open_rows(None if args.show else args.output, schema) as w:
        for batch in batches(iter_records(args.input), BATCH_RECORDS):
            good: list[tuple[str, str]] = []
            for item in batch:
                total += 1
                if isinstance(item, RecordError):
                    rejected.append(item)
                    continue
                rid = printable_id(record_id(item.fields, args.id_field, item.location))
                text = item.fields.get(args.field)
                if not isinstance(text, str):
                    why = "missing" if text is None else f"must be a string, not {type(text).__name__}"
                    rejected.append(RecordError(item.location, why, rid, args.field))
                    continue
                try:
                    text.encode("utf-8")
                except UnicodeEncodeError as e:
                    msg = f"unpaired surrogate at code point {e.start} (invalid Unicode)"
                    rejected.append(RecordError(item.location, msg, rid, args.field))
                    continue
                good.append((rid, text))
            segmented = segment_batch([t for _, t in good], num_threads=args.threads, **opts)
            if args.show:
                for (rid, text), segs in zip(good, segmented):
                    print(f"== {rid}")
                    show(text, segs)
            else:
                w.write([row(rid, text, segs, args.with_text) for (rid, text), segs in zip(good, segmented)])
    for err in rejected:
        print(f"rdpt-fast segment: rejected {err}", file=sys.stderr)
    if args.rejects:
        with open_rows(args.rejects) as rw:
            rw.write([e.to_dict() for e in rejected])
    print(f"rdpt-fast segment: {total - len(rejected)} of {total} records segmented", file=sys.stderr)
    return 1 if rejected else 0
