"""Shared fixtures: the real trace corpora in ../shared/data (skipped with a message when absent) and tiny
real-architecture models (Qwen2, Llama) with locally trained tokenizers, built once per session."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest
from tiny_data import DATA_DIR, build, real_records

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

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


@pytest.fixture(scope="session")
def qwen_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("qwen2")
    build("qwen2", path, 1200, seed=0)
    return path


@pytest.fixture(scope="session")
def llama_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("llama")
    build("llama", path, 700, seed=1)
    return path


@pytest.fixture(scope="session")
def records() -> list[dict]:
    """Six short records (real traces cut short, or a fixed text when the data is absent)."""
    return real_records(6)


@pytest.fixture(scope="session")
def qwen_b_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second tiny Qwen2: same tokenizer training as qwen_dir, other weights."""
    path = tmp_path_factory.mktemp("qwen2b")
    build("qwen2", path, 1200, seed=2)
    return path
