"""Seeded sampling of responses from a demo model, written as input records (DESIGN.md "Input records")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from rdpt_fast.demo.corpus import THINK_OPEN, final_answer
from rdpt_fast.demo.train import EOS


def sample_responses(
    model: torch.nn.Module,
    tokenizer: Any,
    prompts: Sequence[Mapping[str, Any]],
    *,
    source: str,
    seed: int,
    temperature: float = 0.8,
    max_new_tokens: int = 160,
    top_p: float = 1.0,
    num_samples: int = 1,
    batch_size: int = 64,
) -> list[dict[str, Any]]:
    """`num_samples` sampled responses per prompt record ({question_id, prompt[, reference_answer]}).

    The prompt is rendered with the tokenizer's chat template (which pre-fills `<think>\\n`); generation
    samples at `temperature` (no top-k/top-p) and stops at `<|im_end|>` or after `max_new_tokens`. Output
    records: id "<question_id>-<source>-<k>", question_id, prompt, response (`<think>\\n` + the generated
    text, special tokens kept, EOS dropped), model (= source), finished (EOS was reached), and, when the
    prompt has a reference_answer, reference_answer and correct (the stated final answer equals it).
    Deterministic for a given seed and batch_size; the global torch RNG state is left untouched.
    """
    eos_id = tokenizer.convert_tokens_to_ids(EOS)
    pad_id = tokenizer.pad_token_id
    jobs = [(p, k) for p in prompts for k in range(num_samples)]
    out: list[dict[str, Any]] = []
    for b0 in range(0, len(jobs), batch_size):
        chunk = jobs[b0 : b0 + batch_size]
        encoded = []
        for p, _ in chunk:
            text = tokenizer.apply_chat_template(
                [{"role": "user", "content": p["prompt"]}], add_generation_prompt=True, tokenize=False
            )
            if not text.endswith(THINK_OPEN):
                raise ValueError(f"the chat template must pre-fill {THINK_OPEN!r}, got {text[-20:]!r}")
            encoded.append(tokenizer(text, add_special_tokens=False)["input_ids"])
        width = max(len(ids) for ids in encoded)
        input_ids = torch.full((len(chunk), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(chunk), width), dtype=torch.long)
        for i, ids in enumerate(encoded):  # left padding: every row ends where generation starts
            input_ids[i, width - len(ids) :] = torch.tensor(ids)
            mask[i, width - len(ids) :] = 1
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            torch.manual_seed(seed * 1_000_003 + b0)
            generated = model.generate(
                input_ids=input_ids,
                attention_mask=mask,
                do_sample=True,
                temperature=temperature,
                top_k=0,
                top_p=top_p,
                max_new_tokens=max_new_tokens,
                eos_token_id=eos_id,
                pad_token_id=pad_id,
            )
        for (p, k), row in zip(chunk, generated[:, width:].tolist()):
            finished = eos_id in row
            row = row[: row.index(eos_id)] if finished else row
            text = tokenizer.decode(row, skip_special_tokens=False, clean_up_tokenization_spaces=False)
            record: dict[str, Any] = {
                "id": f"{p['question_id']}-{source}-{k}",
                "question_id": p["question_id"],
                "prompt": p["prompt"],
                "response": THINK_OPEN + text,
                "model": source,
                "finished": finished,
            }
            if "reference_answer" in p:
                record["reference_answer"] = p["reference_answer"]
                record["correct"] = final_answer(record["response"]) == p["reference_answer"]
            out.append(record)
    return out
