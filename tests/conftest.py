"""Shared fixtures: the real trace corpora in ../shared/data (skipped with a message when absent)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "traces"
CORPORA = ("thought_anchors_r1_distill_llama8b.jsonl.gz", "skythought_aime24.jsonl.gz")


def load_responses(name: str) -> list[str]:
    with gzip.open(DATA_DIR / name, "rt", encoding="utf-8") as f:
        return [json.loads(line)["response"] for line in f]


@pytest.fixture(scope="session", params=CORPORA)
def corpus(request: pytest.FixtureRequest) -> list[str]:
    """All responses of one real corpus."""
    if not (DATA_DIR / request.param).exists():
        pytest.skip(f"real corpus {DATA_DIR / request.param} is absent (it lives in ../shared/data)")
    return load_responses(request.param)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The folder of the real corpora (skips when it is absent)."""
    if not all((DATA_DIR / name).exists() for name in CORPORA):
        pytest.skip(f"real corpora are absent from {DATA_DIR} (they live in ../shared/data)")
    return DATA_DIR
