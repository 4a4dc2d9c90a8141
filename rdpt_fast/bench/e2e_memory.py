"""Peak extra memory of the end-to-end pipelines, each measured in one call in a fresh process.

In one long process the allocator keeps freed pages, so a pipeline's peak would hide behind the
memory an earlier one left. The child process runs with a fixed glibc mmap threshold (every large
tensor is its own mapping, returned on free), resets its peak resident set (VmHWM) before each
pipeline and reports the peak minus the resident set before it, in MiB: the bare trunk, the naive
full-logits pipeline and `Scorer.score` (after its load-time self-check).

Run as `python -m rdpt_fast.bench.e2e_memory SPEC` (a folder written by `memory_in_subprocess`); it
prints one JSON line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import torch

from rdpt_fast.bench.common import peak_extra_mib
from rdpt_fast.bench.e2e_models import bare_trunk, naive, token_ids

#: glibc reads these at start: large allocations always mmapped, never kept on the heap after free.
ALLOCATOR_ENV = {"MALLOC_MMAP_THRESHOLD_": "131072", "MALLOC_TRIM_THRESHOLD_": "131072"}


def memory_in_subprocess(model: torch.nn.Module, tokenizer: Any, records: list[dict]) -> dict[str, Any]:
    """{"trunk", "naive", "rdpt"} -> peak extra MiB (None where the peak cannot be reset), measured in
    a child process on a copy of `model` and `tokenizer`."""
    with tempfile.TemporaryDirectory(prefix="rdpt-e2e-memory-") as tmp:
        spec = Path(tmp)
        model.save_pretrained(spec / "model")
        tokenizer.save_pretrained(spec / "model")
        (spec / "records.json").write_text(json.dumps(records), encoding="utf-8")
        proc = subprocess.run(
            [sys.executable, "-m", "rdpt_fast.bench.e2e_memory", str(spec)],
            env={**os.environ, **ALLOCATOR_ENV, "OMP_NUM_THREADS": str(torch.get_num_threads())},
            capture_output=True,
            text=True,
        )
    if proc.returncode != 0:
        raise RuntimeError(f"the memory measurement failed:\n{proc.stderr[-2000:]}")
    return {
        **json.loads(proc.stdout.strip().splitlines()[-1]),
        "method": "VmHWM after clear_refs, fresh process",
    }


def main(argv: list[str] | None = None) -> int:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from rdpt_fast.scoring import Scorer

    spec = Path((argv if argv is not None else sys.argv[1:])[0])
    model = AutoModelForCausalLM.from_pretrained(spec / "model", dtype=torch.float32).eval()
    tokenizer = AutoTokenizer.from_pretrained(spec / "model")
    records = json.loads((spec / "records.json").read_text(encoding="utf-8"))
    ids = token_ids(tokenizer, records)
    scorer = Scorer(model, tokenizer, template=None, device="cpu")
    peaks = {
        "trunk": peak_extra_mib(lambda: bare_trunk(model, ids)),
        "naive": peak_extra_mib(lambda: naive(model, ids)),
        "rdpt": peak_extra_mib(lambda: list(scorer.score(records))),
    }
    print(json.dumps(peaks))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
