"""Makes the float64 ground truth in tests/head importable from the kernel tests."""

from __future__ import annotations

import sys
from pathlib import Path

_HEAD_TESTS = str(Path(__file__).resolve().parents[1] / "head")
if _HEAD_TESTS not in sys.path:
    sys.path.insert(0, _HEAD_TESTS)
