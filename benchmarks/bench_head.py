"""Benchmark of LM-head scoring backends and peers; thin wrapper over ``rdpt_fast.bench.head.main``.

Usage: python benchmarks/bench_head.py [--device cpu|cuda] [--shapes 2048x256x129280,...] [--render FILE]
"""

from __future__ import annotations

import sys

from rdpt_fast.bench.head import main

if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
