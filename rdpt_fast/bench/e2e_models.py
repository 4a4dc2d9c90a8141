"""The models and pipelines of the end-to-end benchmark: real shapes with random weights, the bare trunk,
the trunk + head-GEMM floor and the naive full-logits pipeline."""

from __future__ import annotations

import time
from typing import Any

import torch

#: name -> Qwen2-style config keywords (Llama-3.2-1B: tied, GQA 32/8; Qwen2.5-0.5B: tied, GQA 14/2;
#: head-heavy: Qwen2.5-0.5B's head under a 2-layer trunk, where the head is ~80% of the work).
SHAPES: dict[str, dict[str, Any]] = {
    "qwen2.5-0.5b": dict(
        hidden_size=896, intermediate_size=4864, num_hidden_layers=24, num_attention_heads=14,
        num_key_value_heads=2, vocab_size=151936, tie_word_embeddings=True,
    ),
    "llama-3.2-1b": dict(
        hidden_size=2048, intermediate_size=8192, num_hidden_layers=16, num_attention_heads=32,
        num_key_value_heads=8, vocab_size=128256, tie_word_embeddings=True,
    ),
    "head-heavy": dict(
        hidden_size=896, intermediate_size=4864, num_hidden_layers=2, num_attention_heads=14,
        num_key_value_heads=2, vocab_size=151936, tie_word_embeddings=True,
    ),
}  # fmt: skip


def build(shape: str) -> torch.nn.Module:
    import transformers

    config = transformers.Qwen2Config(max_position_embeddings=32768, **SHAPES[shape])
    torch.manual_seed(0)
    return transformers.AutoModelForCausalLM.from_config(config, dtype=torch.float32).eval()


def token_ids(tokenizer: Any, records: list[dict]) -> list[torch.Tensor]:
    """Token ids [L] of each record's prompt + response (raw mode: no template)."""
    return [torch.tensor(tokenizer(r["prompt"] + r["response"]).input_ids) for r in records]


@torch.inference_mode()
def trunk_and_gemm(model: torch.nn.Module, ids: list[torch.Tensor]) -> tuple[float, float]:
    """(seconds of the bare trunk, seconds of the head's matmul) over `ids`, one trace at a time."""
    t0 = time.perf_counter()
    hidden = [model.model(input_ids=x[None]).last_hidden_state[0] for x in ids]
    t1 = time.perf_counter()
    weight = model.get_output_embeddings().weight
    for h in hidden:
        h[:-1] @ weight.T
    return t1 - t0, time.perf_counter() - t1


@torch.inference_mode()
def bare_trunk(model: torch.nn.Module, ids: list[torch.Tensor]) -> None:
    for x in ids:
        model.model(input_ids=x[None])


@torch.inference_mode()
def naive(model: torch.nn.Module, ids: list[torch.Tensor]) -> None:
    for x in ids:
        logits = model(input_ids=x[None]).logits[0, :-1].float()
        torch.log_softmax(logits, -1).gather(1, x[1:, None])
