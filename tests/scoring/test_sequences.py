"""SequenceScorer (the server's and the lm-eval model's engine) against the model's own forward, with
shared prefixes, next tokens and a token budget that forces several passes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rdpt_fast.scoring.prefix_groups import group_batches, plan_groups, row_batches
from rdpt_fast.scoring.sequences import SequenceRequest, SequenceScorer


def requests(vocab: int) -> list[SequenceRequest]:
    rng = np.random.default_rng(0)
    context = rng.integers(0, vocab, 30).tolist()
    shared = [
        SequenceRequest(context + rng.integers(0, vocab, n).tolist(), 3, bool(n % 2)) for n in (1, 2, 6, 9)
    ]
    alone = [
        SequenceRequest(rng.integers(0, vocab, n).tolist(), 1, nt)
        for n, nt in ((1, True), (1, False), (40, True))
    ]
    return [*shared, SequenceRequest(context, 2, True), *alone]


@torch.inference_mode()
def check_against_own_forward(model, req: SequenceRequest, got) -> None:
    ids = list(req.ids)
    logp = torch.log_softmax(model(input_ids=torch.tensor([ids])).logits[0].double(), dim=-1)
    n = len(ids) - 1
    expected = logp[:n].gather(1, torch.tensor(ids[1:])[:, None])[:, 0]
    np.testing.assert_allclose(got.logprobs, expected.numpy(), atol=1e-4)
    np.testing.assert_array_equal(got.greedy, (logp[:n].argmax(-1) == torch.tensor(ids[1:])).numpy())
    positions = n + req.next_token
    best = logp[:positions].topk(req.top_k, dim=-1)
    np.testing.assert_array_equal(got.top_ids, best.indices.numpy())
    np.testing.assert_allclose(got.top_logprobs, best.values.numpy(), atol=1e-4)


@pytest.fixture(scope="module")
def fast(llama) -> SequenceScorer:
    """Fast mode, self-checked, sharing whenever the path is on, small batches (several passes)."""
    return SequenceScorer(*llama, max_batch_tokens=64, share=True)


@pytest.mark.parametrize("mode", ["fast", "reference"])
def test_scores_equal_the_models_own_forward(llama, fast, mode):
    model, tok = llama
    scorer = fast if mode == "fast" else SequenceScorer(model, tok, mode="reference")
    reqs = requests(len(tok))
    for req, got in zip(reqs, scorer.score(reqs)):
        check_against_own_forward(model, req, got)


def test_shared_prefix_runs_once(llama):
    model, tok = llama
    reqs = requests(len(tok))[:5]
    shared = SequenceScorer(model, tok, max_batch_tokens=4096, share=True, self_check=False)
    shared.score(reqs)
    inputs = sum(len(r.ids) - (not r.next_token) for r in reqs)
    assert shared.stats.tokens_forwarded < inputs - 3 * 30  # the 30-token context ran once, not 5 times
    rows = SequenceScorer(model, tok, max_batch_tokens=4096, share=False, self_check=False)
    rows.score(reqs)
    assert rows.stats.forward_passes == 1 and rows.stats.tokens_forwarded >= inputs


def test_bad_sequences_are_refused(llama):
    model, tok = llama
    scorer = SequenceScorer(model, tok, self_check=False)
    with pytest.raises(ValueError, match="at least one token"):
        scorer.score([SequenceRequest([])])
    with pytest.raises(ValueError, match="token ids must be in"):
        scorer.score([SequenceRequest([1, len(tok) + 5])])


def test_plan_groups_and_row_batches():
    seqs = [[1, 2, 3, 4, 5, 9], [7, 7], [1, 2, 3, 4, 5, 6, 8], [1, 2, 3, 4, 6], [1, 2]]
    groups, alone = plan_groups(seqs, share=True, min_prefix=4)
    assert [(g.prefix_length, sorted(g.members)) for g in groups] == [(4, [0, 2, 3])]
    assert alone == [1, 4]
    assert plan_groups(seqs, share=False) == ([], [0, 1, 2, 3, 4])
    assert row_batches([5, 5, 3, 9], [0, 1, 2, 3], 10) == [[3], [0, 1], [2]]
    lengths = [len(s) for s in seqs]
    assert group_batches(groups, lengths, 100) == [groups]
    two = [*groups, type(groups[0])(1, (1, 4))]
    assert [len(b) for b in group_batches(two, lengths, 4)] == [1, 1]  # 2 prefixes x 4 tokens > 4


def test_several_groups_in_one_batch(llama, fast):
    """Groups of different prefix lengths share one prefix pass and one tail pass (padding masked)."""
    model, tok = llama
    assert fast.capabilities.share  # the self-check confirmed the grouped path for this model
    rng = np.random.default_rng(5)
    reqs = []
    for n_prefix in (12, 25, 7):
        prefix = rng.integers(0, len(tok), n_prefix).tolist()
        reqs += [
            SequenceRequest(prefix + rng.integers(0, len(tok), n).tolist(), 2, bool(n % 2)) for n in (1, 4, 7)
        ]
    scorer = SequenceScorer(model, tok, max_batch_tokens=4096, share=True, self_check=False)
    for req, got in zip(reqs, scorer.score(reqs)):
        check_against_own_forward(model, req, got)
    assert scorer.stats.forward_passes == 2
