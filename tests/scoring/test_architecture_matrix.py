"""The architecture matrix: every path of the Scorer against the model's own forward (float64 log_softmax
of `model(ids).logits`), on tiny random-weight versions of real architectures saved and loaded back.

CI runs a fixed representative subset (sliding windows, MLA, MoE, hybrid linear attention, state-space
and convolution layers, softcap, logit scaling, tied and untied heads, absolute positions, ALiBi); the
full matrix over every causal-LM architecture of the installed transformers runs with
`pytest -m full_sweep` (and `python benchmarks/model_matrix.py`, which writes docs/models.md).
"""

from __future__ import annotations

import warnings

import pytest

from rdpt_fast.scoring.matrix import PATHS, check_model_dir, corpus_texts
from rdpt_fast.scoring.self_check import ModelCheckError
from rdpt_fast.scoring.tiny import train_tokenizer
from rdpt_fast.scoring.zoo import NotBuildable, causal_lm_types, tiny_model

#: model type -> paths that must stay on (exact), the rest may only be "off" with a reason.
REPRESENTATIVE = {
    "llama": {"padded", "packed", "shared"},  # untied head
    "qwen2": {"padded", "packed", "shared"},  # tied head
    "mistral": {"padded", "packed", "shared"},  # sliding window in every layer, no layer types
    "mixtral": {"padded", "packed", "shared"},  # sliding window + MoE
    "starcoder2": {"padded", "packed", "shared"},  # sliding window, biases
    "phi3": {"padded", "packed", "shared"},  # sliding window, fused qkv
    "gemma2": {"padded", "packed", "shared"},  # alternating sliding layers, final softcap, eager
    "gpt_oss": {"padded", "packed", "shared"},  # sliding layers, attention sinks, MoE
    "deepseek_v3": {"padded", "packed", "shared"},  # MLA + MoE
    "granite": {"padded", "packed", "shared"},  # logits_scaling
    "cohere": {"padded", "packed", "shared"},  # logit_scale
    "gpt2": {"padded", "packed", "shared"},  # absolute position embeddings
    "bloom": {"padded", "shared"},  # ALiBi; no position ids: never packed
    "qwen3_next": {"padded", "shared"},  # hybrid linear attention: never packed
    "lfm2": {"padded", "shared"},  # short convolutions: never packed
    "mamba": {"padded"},  # state-space: never packed, cache continuation not exact
}


@pytest.fixture(scope="module")
def matrix_tokenizer():
    return train_tokenizer(corpus_texts(), 300)


def run_row(model_type: str, tokenizer, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = tiny_model(model_type)
        model.save_pretrained(tmp_path)
        tokenizer.save_pretrained(tmp_path)
        return check_model_dir(tmp_path)


def assert_exact_or_off(row) -> None:
    outcomes = {o.path: o for o in row.outcomes}
    assert list(outcomes) == list(PATHS)
    for o in row.outcomes:
        assert o.status in ("exact", "off"), f"{row.model_type} {o.path}: {o.status} {o.max_error} {o.detail}"
        if o.status == "off":
            assert o.detail, f"{row.model_type} {o.path} is off without a reason"


@pytest.mark.parametrize("model_type", sorted(REPRESENTATIVE))
def test_representative_architecture_is_exact_in_every_path(model_type, matrix_tokenizer, tmp_path):
    row = run_row(model_type, matrix_tokenizer, tmp_path)
    assert_exact_or_off(row)
    status = {o.path: o.status for o in row.outcomes}
    for path in REPRESENTATIVE[model_type]:
        assert status[path] == "exact", f"{model_type}: {path} was turned off: {row.capabilities}"
    assert status["alone"] == status["reference"] == status["precomputed"] == "exact"
    assert row.capabilities["self_checked"]


def test_recurrent_layers_are_never_packed(matrix_tokenizer, tmp_path):
    row = run_row("qwen3_next", matrix_tokenizer, tmp_path)
    reason = row.capabilities["paths"]["pack"]
    assert reason.startswith("off:") and "carry state" in reason and "GatedDeltaNet" in reason


@pytest.mark.full_sweep
@pytest.mark.parametrize("model_type", causal_lm_types())
def test_every_architecture_is_exact_or_refused(model_type, matrix_tokenizer, tmp_path):
    try:
        row = run_row(model_type, matrix_tokenizer, tmp_path)
    except NotBuildable as e:
        pytest.skip(f"{model_type} cannot be built tiny here: {e}")
    except ModelCheckError as e:  # refused by name: paths that differ, or a model whose own forward fails
        assert model_type in str(e) and ("mode='reference'" in str(e) or "own forward fails" in str(e))
        return
    assert_exact_or_off(row)
