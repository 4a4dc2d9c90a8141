"""Shared fixtures: the real trace corpora in ../shared/data (skipped with a message when absent) and tiny
real-architecture models (Qwen2, Llama) with locally trained tokenizers, built once per session."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest

from rdpt_fast.scoring.tiny import THINK_TEMPLATE, random_model, save_and_reload, train_tokenizer

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

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


FALLBACK_TEXT = (
    "Okay, so I need to find the number of minutes. Let me think. First, 9/s = 4 - t/60. "
    "Then 9/(s+2) = 2.4 - t/60. Subtracting gives 9/s - 9/(s+2) = 1.6. So s = 2.5 and t = 24. "
    "Wait, let me double-check that. Hmm, yes. Therefore the answer is 204 minutes.\n\n"
)


def training_text() -> list[str]:
    """Some real trace text (a few hundred KB) for BPE training; a fixed text when the data is absent."""
    texts = []
    path = DATA_DIR / "skythought_aime24.jsonl.gz"
    if path.exists():
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for i, line in enumerate(f):
                if i >= 150:
                    break
                r = json.loads(line)
                texts += [r["prompt"], r["response"]]
    return texts or [FALLBACK_TEXT] * 50


def build(kind: str, path: Path, vocab: int, seed: int) -> None:
    """Train the tokenizer, build the model, save both into `path`."""
    qwen = kind == "qwen2"
    tok = train_tokenizer(
        training_text(), vocab, bos=not qwen, chat_template=THINK_TEMPLATE if qwen else None
    )
    model = random_model(kind, len(tok), seed=seed, tie_word_embeddings=qwen)
    save_and_reload(model, tok, path)


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


def real_records(n: int, max_chars: int = 1500) -> list[dict]:
    """The first n records of a real corpus, responses cut to max_chars (a fixed text when absent)."""
    records = []
    path = DATA_DIR / "thought_anchors_r1_distill_llama8b.jsonl.gz"
    if path.exists():
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for line in f:
                r = json.loads(line)
                records.append(
                    {
                        "id": r["id"],
                        "prompt": r["prompt"][:400],
                        "response": r["response"][:max_chars],
                        "extra": 7,
                    }
                )
                if len(records) == n:
                    break
    while len(records) < n:
        i = len(records)
        records.append({"id": f"f{i}", "prompt": f"Question {i}?", "response": FALLBACK_TEXT[: 100 + 40 * i]})
    return records


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
