"""`rdpt-fast demo`: a miniature distillation lab on the CPU whose provenance answer is known by construction.

`run_lab(LabSettings.quick() | LabSettings.full(), seed)` builds (or reuses from the cache) the synthetic
corpus, the tokenizer, the teacher, student, distilled and control models, and the sampled responses that
`trace` and `select` read. See `rdpt_fast.demo.lab`.
"""

from __future__ import annotations

from rdpt_fast.demo.lab import CORPORA, MODELS, LabResult, LabSettings, read_jsonl, run_lab

__all__ = ["CORPORA", "MODELS", "LabResult", "LabSettings", "read_jsonl", "run_lab"]
