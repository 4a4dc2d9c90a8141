"""`rdpt-fast bench NAME [ARGS]`: run one of the benchmarks shipped in rdpt_fast.bench."""

from __future__ import annotations

import argparse
import importlib

BENCHMARKS = {
    "compile": "rdpt_fast.bench.compile",
    "gpu": "rdpt_fast.bench.gpu",
    "segment": "rdpt_fast.bench.segment",
    "head": "rdpt_fast.bench.head",
    "score": "rdpt_fast.bench.score",
    "trace": "rdpt_fast.bench.trace",
    "e2e": "rdpt_fast.bench.e2e",
    "serve": "rdpt_fast.bench.serve",
}


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bench",
        help="benchmarks (segment, head, score, trace, e2e, serve), the GPU compile check and the GPU check",
        description="Run a benchmark; `rdpt-fast bench NAME --help` lists its options.",
    )
    p.add_argument("name", choices=sorted(BENCHMARKS))
    p.add_argument("bench_args", nargs=argparse.REMAINDER, help="arguments for the benchmark")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    module = importlib.import_module(BENCHMARKS[args.name])
    return int(module.main(args.bench_args))
