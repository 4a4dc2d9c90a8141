"""Regenerate the benchmark tables in README.md from benchmarks/results/*.json."""

import sys
from pathlib import Path

from rdpt_fast.bench.tables import update_readme

ROOT = Path(__file__).resolve().parents[1]

if __name__ == "__main__":
    changed = update_readme(ROOT / "README.md", ROOT / "benchmarks" / "results")
    print("README.md updated" if changed else "README.md already up to date")
    sys.exit(0)
