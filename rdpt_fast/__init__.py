"""rdpt-fast: per-sentence scoring of reasoning traces for Reasoning Distillation Provenance Tracing.

Segmentation (C++ core with a pure-Python reference) is exported here; see README.md.
"""

from rdpt_fast.segmentation import DEFAULT_MARKERS, assign_tokens, segment, segment_batch
from rdpt_fast.segments import KIND_NAMES, Segment, Segments

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_MARKERS",
    "KIND_NAMES",
    "Segment",
    "Segments",
    "__version__",
    "assign_tokens",
    "segment",
    "segment_batch",
]
