"""Scoring throughput: per-sentence re-encoding vs naive full logits vs rdpt_fast.Scorer, and prompt sharing;
thin wrapper over ``rdpt_fast.bench.score.main`` (= ``rdpt-fast bench score``).

Usage: python benchmarks/bench_score.py [--traces 6] [--per-sentence-traces 2] [--k 8] [--vocab 65536]
"""

from __future__ import annotations

import sys

from rdpt_fast.bench.score import main

if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
