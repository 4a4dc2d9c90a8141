"""A local multiple-choice lm-eval task: questions in a JSONL file, a YAML task reading it with
`dataset_path: json` (nothing downloaded; run with HF_DATASETS_OFFLINE=1)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

TASK_YAML = """task: {name}
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
output_type: multiple_choice
doc_to_text: "{{{{question}}}}\\nAnswer:"
doc_to_choice: choices
doc_to_target: answer
metric_list:
  - metric: acc
"""

WORDS = [
    "the",
    "number",
    "of",
    "minutes",
    "speed",
    "walk",
    "coffee",
    "shop",
    "distance",
    "hours",
    "answer",
    "triangle",
    "circle",
    "radius",
    "area",
    "prime",
    "sum",
    "product",
    "digits",
    "integer",
    "fraction",
    "ratio",
    "angle",
    "side",
    "length",
    "equal",
    "twice",
    "half",
    "square",
    "root",
    "probability",
    "coin",
    "dice",
    "red",
    "blue",
    "ball",
    "box",
    "choose",
    "order",
    "sequence",
    "term",
    "first",
    "last",
    "value",
    "point",
    "line",
]


def synthetic_questions(n: int, choices: int = 4, seed: int = 0) -> list[dict[str, Any]]:
    """`n` seeded questions (10 to 40 words) with `choices` answers of 1 to 6 words each."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        question = " ".join(rng.choice(WORDS, size=int(rng.integers(10, 41))))
        answers = [" ".join(rng.choice(WORDS, size=int(rng.integers(1, 7)))) for _ in range(choices)]
        out.append(
            {
                "id": i,
                "question": f"Q{i}: {question}?",
                "choices": answers,
                "answer": int(rng.integers(choices)),
            }
        )
    return out


def write_mc_task(folder: Path, name: str, questions: list[dict[str, Any]]) -> Path:
    """`folder/<name>.jsonl` and `folder/<name>.yaml` (the task `name`); returns the folder (lm-eval's
    include path)."""
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / f"{name}.jsonl"
    data.write_text("".join(json.dumps(q) + "\n" for q in questions), encoding="utf-8")
    (folder / f"{name}.yaml").write_text(TASK_YAML.format(name=name, data=data.resolve()), encoding="utf-8")
    return folder
