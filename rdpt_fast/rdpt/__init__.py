"""RDPT on top of the Scorer: trace (label sentences by provenance), select (teacher-guided data selection),
classify (relabel without models), adaptive beta, and the report."""

from rdpt_fast.rdpt.adaptive import AdaptiveBeta, adaptive_beta
from rdpt_fast.rdpt.labels import SELECT_LABELS, TRACE_LABELS, classify, classify_selection
from rdpt_fast.rdpt.run import ModelSource, RunResult, classify_folder
from rdpt_fast.rdpt.select import SelectResult, select
from rdpt_fast.rdpt.selection import STRATEGIES
from rdpt_fast.rdpt.trace import trace

__all__ = [
    "SELECT_LABELS",
    "STRATEGIES",
    "TRACE_LABELS",
    "AdaptiveBeta",
    "ModelSource",
    "RunResult",
    "SelectResult",
    "adaptive_beta",
    "classify",
    "classify_folder",
    "classify_selection",
    "select",
    "trace",
]
