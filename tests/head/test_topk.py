"""The vocab-tiled top-k head against full logits (the reference backend and a float64 computation)."""

from __future__ import annotations

import pytest
import torch

from rdpt_fast.head.topk import topk_logprobs


def float64_truth(hidden, weight, targets, bias, scale, softcap):
    logits = (hidden.double() @ weight.double().T + (0 if bias is None else bias.double())) * scale
    if softcap is not None:
        logits = softcap * torch.tanh(logits / softcap)
    return torch.log_softmax(logits, dim=-1)


@pytest.mark.parametrize(
    ("bias", "scale", "softcap"), [(False, 1.0, None), (True, 0.5, None), (False, 1.0, 30.0)]
)
@pytest.mark.parametrize("k", [1, 5])
def test_tiled_equals_full_logits(bias, scale, softcap, k):
    g = torch.Generator().manual_seed(k)
    n, h, v = 37, 16, 1000
    hidden, weight = torch.randn(n, h, generator=g), torch.randn(v, h, generator=g)
    b = torch.randn(v, generator=g) if bias else None
    targets = torch.randint(0, v, (n,), generator=g)
    targets[3] = -100
    truth = float64_truth(hidden, weight, targets, b, scale, softcap)
    options = {"bias": b, "logit_scale": scale, "softcap": softcap}
    tiled = topk_logprobs(hidden, weight, targets, k, tile_bytes=4 * 8 * 128, **options)  # many tiles
    ref = topk_logprobs(hidden, weight, targets, k, backend="reference", **options)
    expected = truth.gather(1, targets.clamp(min=0)[:, None])[:, 0].float()
    expected[3] = 0.0
    best = truth.topk(k, dim=-1)
    for out in (tiled, ref):
        torch.testing.assert_close(out.logprobs, expected, atol=1e-4, rtol=0)
        assert torch.equal(out.top_ids, best.indices)
        torch.testing.assert_close(out.top_logprobs, best.values.float(), atol=1e-4, rtol=0)


def test_argmax_target_has_exactly_the_top1_value():
    """Clients (lm-eval) test greediness with ==: the target's value and the top-1 value are one float."""
    g = torch.Generator().manual_seed(0)
    hidden, weight = torch.randn(50, 8, generator=g), torch.randn(3000, 8, generator=g)
    argmax = (hidden @ weight.T).argmax(dim=-1)
    out = topk_logprobs(hidden, weight, argmax, 2, tile_bytes=4 * 8 * 512)
    assert torch.equal(out.logprobs, out.top_logprobs[:, 0])


def test_bad_k_and_backend():
    hidden, weight, targets = torch.zeros(2, 4), torch.zeros(10, 4), torch.zeros(2, dtype=torch.long)
    with pytest.raises(ValueError, match="k must be an int in"):
        topk_logprobs(hidden, weight, targets, 11)
    with pytest.raises(ValueError, match="unknown top-k backend"):
        topk_logprobs(hidden, weight, targets, 1, backend="magic")
