"""`model_token_logprobs` equals TRL's `selective_log_softmax` applied to the model's own logits.

TRL (trl/trainer/utils.py, `selective_log_softmax(logits, index)`) for float32/float64 logits computes
    selected_logits = torch.gather(logits, dim=-1, index=index.unsqueeze(-1)).squeeze(-1)
    logsumexp_values = torch.stack([torch.logsumexp(lg, dim=-1) for lg in logits])
    per_token_logps = selected_logits - logsumexp_values
with logits = model(input_ids, attention_mask).logits[:, :-1] and index = input_ids[:, 1:]. It is
written out here (trl is not a dependency); when trl is installed its own function is used.
"""

from __future__ import annotations

import pytest
import torch

import rdpt_fast


def selective_log_softmax(logits: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    try:
        from trl.trainer.utils import selective_log_softmax as trl_version
    except ImportError:
        selected = torch.gather(logits, dim=-1, index=index.unsqueeze(-1)).squeeze(-1)
        return selected - torch.stack([torch.logsumexp(lg, dim=-1) for lg in logits])
    return trl_version(logits, index)


@pytest.fixture(scope="module")
def batch(llama):
    model, tok = llama
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, len(tok), (3, 21), generator=g)
    mask = torch.ones_like(ids)
    mask[1, :6] = 0  # left padding
    mask[2, 15:] = 0  # right padding
    return model, ids, mask


@pytest.mark.parametrize("backend", ["auto", "reference"])
def test_equals_selective_log_softmax(batch, backend):
    model, ids, mask = batch
    with torch.inference_mode():
        got = rdpt_fast.model_token_logprobs(model, ids, mask, with_entropy=True, backend=backend)
        logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1]
    expected = selective_log_softmax(logits, ids[:, 1:])
    assert got.logprobs.dtype == torch.float32 and got.logprobs.shape == (3, 20)
    assert torch.equal(got.mask, mask[:, 1:].bool())
    torch.testing.assert_close(got.logprobs, torch.where(got.mask, expected, 0.0), atol=1e-5, rtol=0)
    logp = torch.log_softmax(logits.double(), dim=-1)
    torch.testing.assert_close(got.entropy, -(logp.exp() * logp).sum(-1).float(), atol=1e-4, rtol=0)


def test_labels_and_start(batch):
    model, ids, _ = batch
    labels = ids.clone()
    labels[0, 10:] = -100
    got = rdpt_fast.model_token_logprobs(model, ids, labels=labels, start=torch.tensor([4, 8, 1]))
    with torch.no_grad():
        expected = selective_log_softmax(model(input_ids=ids).logits[:, :-1], ids[:, 1:])
    keep = torch.ones(3, 20, dtype=torch.bool)
    keep[0, 9:] = False  # labels -100 from token 10
    keep[0, :3], keep[1, :7] = False, False  # targets before `start`
    assert torch.equal(got.mask, keep)
    torch.testing.assert_close(got.logprobs, torch.where(keep, expected, 0.0), atol=1e-5, rtol=0)


def test_bad_shapes(batch):
    model, ids, mask = batch
    with pytest.raises(ValueError, match=r"input_ids must be \[B, L\]"):
        rdpt_fast.model_token_logprobs(model, ids[0])
    with pytest.raises(ValueError, match="attention_mask must have"):
        rdpt_fast.model_token_logprobs(model, ids, mask[:, :5])
