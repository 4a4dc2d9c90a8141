"""The architecture matrix: every execution path of the Scorer against the model's own forward.

For one model folder, records that exercise every path (a trace alone, rows padded to one length, short
traces packed into one row, three responses sharing one prompt, precomputed log-probs, and
`mode="reference"`) are scored, and each record's per-sentence sums are compared with the model's own
forward (`model(ids).logits`, `log_softmax` in float64, gather, summed per sentence with the token rule
of DESIGN.md). A path the Scorer turned off for the model is reported "off" with the reason, and its
fallback must still be exact. Used by the tests and by `benchmarks/model_matrix.py` (docs/models.md).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rdpt_fast.reference.assign import assign_tokens_reference
from rdpt_fast.scoring.prepare import tokenize_with_offsets
from rdpt_fast.scoring.scorer import Scorer
from rdpt_fast.segmentation import segment

PATHS = ("alone", "padded", "packed", "shared", "precomputed", "reference")
TOLERANCE = 1e-4  # nats per sentence, float32 on the CPU

_SENTENCES = (
    "We first compute the sum of the two numbers. ",
    "Then we check the result against the bound. ",
    "Wait, that does not look right. ",
    "Let me recount the cases one by one. ",
    "So the answer is 42.\n",
    "Hmm, maybe the second case is empty? ",
    "Yes, because no vertex is blue.\n",
    "Therefore the total is 17. ",
)


def corpus_texts() -> list[str]:
    """Texts for training the matrix tokenizer (the same sentences the records are made of)."""
    return ["".join(_SENTENCES[i:] + _SENTENCES[:i]) for i in range(len(_SENTENCES))] * 4


def matrix_records() -> list[dict[str, Any]]:
    """Six records: three sharing one prompt, two short ones (packed together), one long one alone."""
    shared_prompt = "Question: how many ways are there to colour the four vertices of a square?\n"

    def text(start: int, n: int) -> str:
        return "".join(_SENTENCES[(start + k) % len(_SENTENCES)] for k in range(n))

    return [
        {"id": "shared-0", "prompt": shared_prompt, "response": text(0, 5)},
        {"id": "shared-1", "prompt": shared_prompt, "response": text(2, 4)},
        {"id": "shared-2", "prompt": shared_prompt, "response": text(5, 6)},
        {"id": "short-0", "prompt": "Q: add 2 and 3.\n", "response": text(4, 2)},
        {"id": "short-1", "prompt": "Q: is 7 prime?\n", "response": text(6, 2)},
        {"id": "long-0", "prompt": "Question: sum the series.\n", "response": text(1, 12)},
    ]


@torch.inference_mode()
def own_forward(model: torch.nn.Module, tokenizer: Any, record: dict[str, Any]) -> tuple[np.ndarray, ...]:
    """(sum_logprob [S] float64, num_tokens [S], token_ids of the response, their log-probs) of `record`
    scored in raw mode by the model's own forward."""
    text = record["prompt"] + record["response"]
    ids, offsets = tokenize_with_offsets(tokenizer, text, add_special_tokens=True)
    segs = segment(record["response"])
    shift = len(record["prompt"])
    owner = np.asarray(
        assign_tokens_reference(
            offsets.tolist(), (segs.starts + shift).tolist(), (segs.ends + shift).tolist(), text
        ),
        dtype=np.int64,
    )
    logits = model(input_ids=torch.from_numpy(ids)[None]).logits[0].to(torch.float64)
    logp = torch.log_softmax(logits[:-1], dim=-1).gather(1, torch.from_numpy(ids[1:, None]))[:, 0].numpy()
    owner = owner[1:]
    keep = owner >= 0
    sums = np.bincount(owner[keep], weights=logp[keep], minlength=len(segs))
    counts = np.bincount(owner[keep], minlength=len(segs))
    first = int(np.flatnonzero(keep)[0])
    return sums, counts, ids[1 + first :], logp[first:]


@dataclass
class PathOutcome:
    """One path on one architecture. status: "exact", "off" (turned off; its fallback exact), "wrong"
    (a difference beyond the tolerance) or "error" (the path raised)."""

    path: str
    status: str
    max_error: float | None = None
    detail: str = ""


@dataclass
class ArchitectureRow:
    model_type: str
    class_name: str
    attn_implementation: str
    outcomes: list[PathOutcome] = field(default_factory=list)
    capabilities: dict[str, Any] = field(default_factory=dict)
    self_check_seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


_PATH_OPTIONS: dict[str, dict[str, Any]] = {
    "alone": dict(share_prompts=False, pack=False, max_tokens_per_batch=1),
    "padded": dict(share_prompts=False, pack=False, max_tokens_per_batch=1 << 20),
    "packed": dict(share_prompts=False, pack=True, max_tokens_per_batch=1 << 20),
    "shared": dict(share_prompts=True, pack=False, max_tokens_per_batch=1 << 20),
}
_PATH_CAPABILITY = {"padded": "batch", "packed": "pack", "shared": "share"}


def _compare(results: list[Any], truth: list[tuple[np.ndarray, ...]]) -> PathOutcome:
    worst = 0.0
    for res, (sums, counts, *_) in zip(results, truth):
        if res.error is not None:
            return PathOutcome("", "error", None, res.error[:200])
        if not np.array_equal(res.num_tokens, counts):
            return PathOutcome("", "wrong", None, f"{res.id}: token counts differ")
        worst = max(worst, float(np.max(np.abs(res.sum_logprob - sums))))
    return PathOutcome("", "exact" if worst <= TOLERANCE else "wrong", worst)


def _path_ran(path: str, before: dict[str, int], scorer: Scorer) -> bool:
    stats = scorer.stats
    if path == "packed":
        return stats.packed_batches > before["packed_batches"]
    if path == "shared":
        return stats.shared_groups > before["shared_groups"]
    if path == "padded":
        return stats.padded_tokens > before["padded_tokens"]
    return True


def check_model_dir(path: str | Path, *, self_check: bool = True) -> ArchitectureRow:
    """Every path of the Scorer on the model saved in `path` against the model's own forward."""
    records = matrix_records()
    scorer = Scorer(path, template=None, device="cpu", dtype="float32", self_check=self_check)
    model, tok = scorer.model, scorer.tokenizer
    truth = [own_forward(model, tok, r) for r in records]
    caps = scorer.capabilities
    row = ArchitectureRow(
        model.config.model_type,
        type(model).__name__,
        model.config._attn_implementation,
        capabilities=caps.describe(),
        self_check_seconds=round(caps.seconds, 4),
    )
    for name in PATHS:
        try:
            if name == "reference":
                ref = Scorer(model, tok, template=None, mode="reference")
                outcome = _compare(list(ref.score(records)), truth)
            elif name == "precomputed":
                pre = Scorer(None, tok, name="sampler")
                given = [
                    dict(r, token_ids=t[2].tolist(), logprobs=t[3].tolist(), logprobs_model="sampler")
                    for r, t in zip(records, truth)
                ]
                outcome = _compare(list(pre.score(given)), truth)
            else:
                scorer.config = replace(scorer.config, **_PATH_OPTIONS[name])
                before = {
                    k: getattr(scorer.stats, k) for k in ("packed_batches", "shared_groups", "padded_tokens")
                }
                outcome = _compare(list(scorer.score(records)), truth)
                capability = _PATH_CAPABILITY.get(name)
                if capability and not getattr(caps, capability):
                    outcome.detail = caps.reasons.get(capability, "")
                    outcome.status = "off" if outcome.status == "exact" else outcome.status
                elif not _path_ran(name, before, scorer):
                    outcome = PathOutcome(name, "error", outcome.max_error, "the path did not run")
        except Exception as e:
            outcome = PathOutcome(name, "error", None, f"{type(e).__name__}: {str(e)[:200]}")
        outcome.path = name
        row.outcomes.append(outcome)
    return row
