"""`model_token_logprobs`: per-token log-probs of a loaded causal LM without building its logits.

The contract of TRL's `selective_log_softmax(logits, index)` as trainers use it for reference-model
log-probs (`logits = model(input_ids, attention_mask).logits[:, :-1]`, `index = input_ids[:, 1:]`),
computed from the model's final hidden states through the fused head: memory O(B x L x H) instead of
O(B x L x V). No gradient flows (scoring only); works under `torch.inference_mode()`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from rdpt_fast.head import segment_logprobs
from rdpt_fast.head.validation import IGNORE_INDEX
from rdpt_fast.scoring.model_head import base_model, head_params


@dataclass(frozen=True)
class LogProbs:
    """logprobs [B, L-1] float32: log p(target t+1 | tokens <= t), 0.0 where not scored.
    mask [B, L-1] bool: scored positions. entropy [B, L-1] float32 of the model's next-token
    distribution at every position (when asked for), else None."""

    logprobs: torch.Tensor
    mask: torch.Tensor
    entropy: torch.Tensor | None = None


def _scored_mask(
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor | None,
    labels: torch.Tensor | None,
    start: int | torch.Tensor | None,
) -> torch.Tensor:
    """[B, L-1] bool: target t+1 is scored (attended, label not -100, t+1 >= start)."""
    batch, length = input_ids.shape
    mask = torch.ones(batch, length - 1, dtype=torch.bool, device=input_ids.device)
    if attention_mask is not None:
        mask &= attention_mask[:, 1:].bool()
    if labels is not None:
        mask &= labels[:, 1:] != IGNORE_INDEX
    if start is not None:
        first = torch.as_tensor(start, device=input_ids.device).reshape(-1, 1)
        if first.shape[0] not in (1, batch):
            raise ValueError(
                f"start must be an int or have one entry per row ({batch}), got {first.shape[0]}"
            )
        mask &= torch.arange(1, length, device=input_ids.device)[None] >= first
    return mask


def model_token_logprobs(
    model: torch.nn.Module,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor | None = None,
    *,
    labels: torch.Tensor | None = None,
    start: int | torch.Tensor | None = None,
    with_entropy: bool = False,
    backend: str = "auto",
) -> LogProbs:
    """Per-token log-probs of `model` (a Hugging Face causal LM) for `input_ids` [B, L], without logits.

    attention_mask [B, L] (1 = token, 0 = padding) goes to the model as it would for `model(...).logits`;
    targets at padded positions get 0. labels [B, L] replace input_ids as targets (-100: not scored).
    start: an int or [B] tensor; targets before it (e.g. the prompt) are not scored. backend: a head
    backend of `rdpt_fast.head` ("reference" builds the full logits: the plain path). Returns `LogProbs`;
    equal to `selective_log_softmax(model(input_ids, attention_mask).logits[:, :-1], targets[:, 1:])`
    where scored. Raises ValueError on shapes that do not match.
    """
    if input_ids.dim() != 2 or input_ids.shape[1] < 2:
        raise ValueError(f"input_ids must be [B, L] with L >= 2, got {list(input_ids.shape)}")
    for name, tensor in (("attention_mask", attention_mask), ("labels", labels)):
        if tensor is not None and tensor.shape != input_ids.shape:
            raise ValueError(
                f"{name} must have input_ids' shape {list(input_ids.shape)}, got {list(tensor.shape)}"
            )
    batch, length = input_ids.shape
    mask = _scored_mask(input_ids, attention_mask, labels, start)
    targets = (input_ids if labels is None else labels)[:, 1:]
    targets = torch.where(mask, targets, IGNORE_INDEX).reshape(-1)
    with torch.no_grad():
        hidden = base_model(model)(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        head = head_params(model)
        hidden = hidden[:, :-1].reshape(-1, hidden.shape[-1])
        scores = segment_logprobs(
            hidden, head.weight, targets, torch.full_like(targets, -1), 0,
            bias=head.bias, logit_scale=head.logit_scale, softcap=head.softcap, backend=backend,
            return_token_logprobs=True, with_entropy=with_entropy,
        )  # fmt: skip
    assert scores.token_logprobs is not None
    entropy = None if scores.entropy is None else scores.entropy.reshape(batch, length - 1)
    return LogProbs(scores.token_logprobs.reshape(batch, length - 1), mask, entropy)
