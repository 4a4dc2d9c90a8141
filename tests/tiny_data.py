"""Test data that is not a fixture: tiny model building and short real records, importable from any test
folder as `tiny_data` (tests/ is on sys.path; a module named `conftest` would be ambiguous)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from rdpt_fast.scoring.tiny import THINK_TEMPLATE, random_model, save_and_reload, train_tokenizer

DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "traces"

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
