"""Ground truth for the server tests: the model's own forward, log_softmax of its logits in float64."""

from __future__ import annotations

import torch


@torch.inference_mode()
def own_logprobs(model, ids: list[int]) -> torch.Tensor:
    """[L, V] float64 log-probs of the next token at every position of `ids`."""
    logits = model(input_ids=torch.tensor([ids])).logits[0].to(torch.float64)
    return torch.log_softmax(logits, dim=-1)
