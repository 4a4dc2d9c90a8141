"""Three tiny models for runs: teacher and student share a tokenizer; the distilled model (a Llama) has its
own, so that sentence-level joining across vocabularies is exercised."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def models(qwen_dir: Path, qwen_b_dir: Path, llama_dir: Path) -> dict[str, Path]:
    return {"teacher": qwen_dir, "student": qwen_b_dir, "distilled": llama_dir}


def write_jsonl(path: Path, rows: list, raw_lines: dict[int, str] | None = None) -> Path:
    """Write `rows` as JSON lines; `raw_lines[i]` is inserted verbatim before row i (bad lines)."""
    raw_lines = raw_lines or {}
    with open(path, "w", encoding="utf-8") as f:
        for i, row in enumerate(rows):
            if i in raw_lines:
                f.write(raw_lines[i] + "\n")
            f.write(json.dumps(row) + "\n")
    return path
