"""RDPT on top of the run engine: trace (label sentences by provenance), select (teacher-guided data
selection), the label rules, adaptive beta and the report.

The label rules are imported eagerly (they are leaves the engine builds on); `trace` and `select` are
imported on first use, so that importing a leaf of this package never imports the engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rdpt_fast.rdpt.adaptive import AdaptiveBeta, adaptive_beta
from rdpt_fast.rdpt.labels import SELECT_LABELS, TRACE_LABELS, classify, classify_selection

if TYPE_CHECKING:
    from rdpt_fast.rdpt.select import SelectResult, select
    from rdpt_fast.rdpt.trace import trace

_LAZY = {
    "trace": "rdpt_fast.rdpt.trace",
    "select": "rdpt_fast.rdpt.select",
    "SelectResult": "rdpt_fast.rdpt.select",
}

__all__ = [
    "SELECT_LABELS",
    "TRACE_LABELS",
    "AdaptiveBeta",
    "SelectResult",
    "adaptive_beta",
    "classify",
    "classify_selection",
    "select",
    "trace",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'rdpt_fast.rdpt' has no attribute {name!r}")
