"""Regenerate the benchmark tables in README.md (or the Markdown files given as arguments, e.g.
docs/gpu.md for the compile check) from benchmarks/results/*.json."""

import sys
from pathlib import Path

from rdpt_fast.bench.tables import update_readme

ROOT = Path(__file__).resolve().parents[1]

if __name__ == "__main__":
    for name in sys.argv[1:] or ["README.md"]:
        changed = update_readme(ROOT / name, ROOT / "benchmarks" / "results")
        print(f"{name} updated" if changed else f"{name} already up to date")
    sys.exit(0)
