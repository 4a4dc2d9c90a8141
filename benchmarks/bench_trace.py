"""End-to-end trace on real traces against the scoring floor (three Scorer passes), plus resume, classify
and report; thin wrapper over ``rdpt_fast.bench.trace.main`` (= ``rdpt-fast bench trace``).

Usage: python benchmarks/bench_trace.py [--traces 120] [--max-chars 3000] [--repeats 3]
"""

from __future__ import annotations

import sys

from rdpt_fast.bench.trace import main

if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
