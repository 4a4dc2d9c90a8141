"""Segmentation benchmark; the same as `rdpt-fast bench segment` (`--help` for options)."""

import sys

from rdpt_fast.bench.segment import main

if __name__ == "__main__":
    sys.exit(main())
