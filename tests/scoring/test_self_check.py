"""The load-time self-check turns off a deliberately broken path (and stops on a broken plain path);
`attn_implementation="auto"` loads architectures that do not support SDPA."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from rdpt_fast.scoring import Scorer
from rdpt_fast.scoring.loading import auto_attention
from rdpt_fast.scoring.matrix import corpus_texts, matrix_records, own_forward
from rdpt_fast.scoring.runner import Runner, block_causal_mask
from rdpt_fast.scoring.self_check import ModelCheckError
from rdpt_fast.scoring.tiny import train_tokenizer
from rdpt_fast.scoring.zoo import tiny_model


@pytest.fixture(scope="module")
def tokenizer():
    return train_tokenizer(corpus_texts(), 300)


def saved(model_type: str, tokenizer, path, **overrides):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tiny_model(model_type, **overrides).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def assert_matches_own_forward(scorer: Scorer, records) -> None:
    for rec, res in zip(records, scorer.score(records)):
        sums, counts, *_ = own_forward(scorer.model, scorer.tokenizer, rec)
        assert res.error is None
        np.testing.assert_array_equal(res.num_tokens, counts)
        np.testing.assert_allclose(res.sum_logprob, sums, rtol=0, atol=1e-4)


def test_a_mask_that_ignores_the_window_is_caught(tokenizer, tmp_path, monkeypatch, caplog):
    """Packing with a block mask that forgets the sliding window (and positions that do not restart, so
    the model cannot find the traces itself) is wrong on Mistral; the self-check turns packing off."""

    def no_window_mask(self, rows, width):
        return block_causal_mask(rows, width, torch.bool, self.device)

    real_forward = Runner.forward_packed

    def forward_without_restarts(self, batch):
        self.pack_mode = "mask"
        return real_forward(self, batch)

    monkeypatch.setattr(Runner, "_mask_for", no_window_mask)
    monkeypatch.setattr(Runner, "forward_packed", forward_without_restarts)
    scorer = Scorer(saved("mistral", tokenizer, tmp_path), template=None, device="cpu")
    assert not scorer.capabilities.pack
    assert "self-check" in scorer.capabilities.reasons["pack"]
    assert "pack path turned off" in caplog.text and "mistral" in caplog.text
    assert scorer.stats.paths["paths"]["pack"].startswith("off: ")
    records = matrix_records()
    assert_matches_own_forward(scorer, records)  # the fallback (no packing) is exact
    assert scorer.stats.packed_batches == 0


def test_a_broken_shared_prompt_path_is_turned_off(tokenizer, tmp_path, monkeypatch):
    def shifted(self, batch):  # continuations one position off
        hidden = real(self, batch)
        return [torch.cat([h[:1], h[:-1]]) for h in hidden]

    real = Runner.forward_shared
    monkeypatch.setattr(Runner, "forward_shared", shifted)
    scorer = Scorer(saved("llama", tokenizer, tmp_path), template=None, device="cpu", share_prompts=True)
    assert scorer.capabilities.pack and not scorer.capabilities.share
    assert_matches_own_forward(scorer, matrix_records())
    assert scorer.stats.shared_groups == 0


def test_a_broken_plain_path_stops_with_the_architecture_named(tokenizer, tmp_path, monkeypatch):
    real = Runner.score_hidden

    def off_by_a_bit(self, traces, tails):
        return real(self, traces, [t * 1.01 for t in tails])

    monkeypatch.setattr(Runner, "score_hidden", off_by_a_bit)
    with pytest.raises(ModelCheckError, match=r"LlamaForCausalLM \(llama\).*mode='reference'"):
        Scorer(saved("llama", tokenizer, tmp_path), template=None, device="cpu")
    unchecked = Scorer(tmp_path, template=None, device="cpu", self_check=False)
    assert not unchecked.capabilities.checked


def test_auto_attention_loads_an_architecture_without_sdpa(tokenizer, tmp_path):
    path = saved("gpt_oss", tokenizer, tmp_path)
    assert auto_attention(path, torch.device("cpu"), trust_remote_code=False) == "eager"
    scorer = Scorer(path, template=None, device="cpu", share_prompts=True)  # attention "auto"
    assert scorer.model.config._attn_implementation == "eager"
    assert_matches_own_forward(scorer, matrix_records())
    assert scorer.stats.packed_batches > 0 and scorer.stats.shared_groups > 0


def test_auto_attention_prefers_sdpa_where_supported(tokenizer, tmp_path):
    path = saved("qwen2", tokenizer, tmp_path)
    assert Scorer(path, template=None, device="cpu").model.config._attn_implementation == "sdpa"


def test_probe_crosses_only_windows_the_model_uses():
    import transformers

    from rdpt_fast.scoring.self_check import window_of

    assert window_of(transformers.MistralConfig(sliding_window=24)) == 24  # every layer slides
    assert window_of(transformers.Gemma2Config(sliding_window=24)) == 24  # alternating layers
    assert window_of(transformers.Qwen2Config(sliding_window=4096)) is None  # set but unused
    assert window_of(transformers.LlamaConfig()) is None
