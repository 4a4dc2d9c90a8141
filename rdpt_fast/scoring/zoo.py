"""Tiny versions of every causal-LM architecture of the installed transformers, for the architecture matrix.

`tiny_config(model_type)` builds the architecture's own config class with small sizes (hidden 64, 2-4
layers, 4 heads, vocab 512, small experts, short sliding windows so that test traces cross them); it
raises `NotBuildable` with the reason for an architecture that cannot be built tiny from its config
(encoder-decoder, multimodal composite, remote code, a config the installed transformers cannot build).
Nothing is downloaded.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

import torch

#: Sizes given to every config that has the key (constructor keyword arguments).
TINY_SIZES: dict[str, int] = {
    "hidden_size": 64,
    "n_embd": 64,
    "d_model": 64,
    "num_hidden_layers": 4,
    "n_layer": 4,
    "num_layers": 4,
    "n_layers": 4,
    "num_attention_heads": 4,
    "n_head": 4,
    "n_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 16,
    "intermediate_size": 128,
    "ffn_hidden_size": 128,
    "moe_intermediate_size": 32,
    "shared_expert_intermediate_size": 32,
    "num_experts": 4,
    "num_local_experts": 4,
    "n_routed_experts": 4,
    "num_experts_per_tok": 2,
    "n_shared_experts": 1,
    "n_group": 1,
    "topk_group": 1,
    "first_k_dense_replace": 1,
    "kv_lora_rank": 16,
    "q_lora_rank": 32,
    "qk_rope_head_dim": 8,
    "qk_nope_head_dim": 8,
    "v_head_dim": 16,
    "linear_key_head_dim": 16,
    "linear_value_head_dim": 16,
    "linear_num_key_heads": 2,
    "linear_num_value_heads": 4,
    "mamba_n_heads": 8,
    "mamba_d_head": 16,
    "mamba_d_state": 16,
    "mamba_chunk_size": 16,
    "state_size": 16,
    "rotary_dim": 8,
    "vocab_size": 512,
    "max_position_embeddings": 2048,
    "n_positions": 2048,
    "n_ctx": 2048,
    "max_seq_len": 2048,
    "sliding_window": 24,
    "attention_chunk_size": 24,
    "pad_token_id": 0,
    "bos_token_id": 1,
    "eos_token_id": 2,
}
MAX_PARAMETERS = 3_000_000

#: Per-architecture keywords where the generic sizes leave no attention layer or a huge side table.
ARCH_OVERRIDES: dict[str, dict[str, Any]] = {
    "jamba": dict(attn_layer_period=2, attn_layer_offset=1, expert_layer_period=2, expert_layer_offset=1),
    "bamba": dict(attn_layer_indices=[1, 3]),
    "granitemoehybrid": dict(layer_types=["mamba", "attention", "mamba", "attention"]),
    "bailing_hybrid": dict(layer_group_size=2),
    "granite": dict(logits_scaling=4.0),
    "lfm2": dict(layer_types=["conv", "full_attention", "conv", "full_attention"]),
    "gemma4_text": dict(vocab_size_per_layer_input=512, hidden_size_per_layer_input=16),
    "gemma3n_text": dict(
        vocab_size_per_layer_input=512, hidden_size_per_layer_input=16, num_kv_shared_layers=0
    ),
}


class NotBuildable(Exception):
    """The architecture cannot be built tiny from its config here; the message says why."""


def causal_lm_types() -> list[str]:
    """Model types with a causal-LM class in the installed transformers, sorted."""
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    return sorted(MODEL_FOR_CAUSAL_LM_MAPPING_NAMES)


def tiny_config(model_type: str, **overrides: Any) -> Any:
    """The architecture's config with tiny sizes (keys it knows only), then `overrides`."""
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    try:
        cls = CONFIG_MAPPING[model_type]
        default = cls()
    except Exception as e:
        raise NotBuildable(f"config cannot be built: {type(e).__name__}: {e}") from None
    if getattr(default, "is_encoder_decoder", False):
        raise NotBuildable("encoder-decoder (not a decoder-only LM)")
    vision = [k for k in (getattr(cls, "sub_configs", None) or {}) if "vision" in k or "audio" in k]
    if vision:
        raise NotBuildable(f"multimodal composite ({', '.join(vision)}); its text model is listed on its own")
    known = set(default.to_dict()) | set(inspect.signature(cls.__init__).parameters)
    kwargs = {k: v for k, v in TINY_SIZES.items() if k in known}
    if "kv_lora_rank" in kwargs:  # MLA: one latent KV per query head, rope part of the head as head_dim
        kwargs["num_key_value_heads"] = kwargs.get("num_attention_heads", 4)
        if "head_dim" in kwargs:
            kwargs["head_dim"] = kwargs["qk_rope_head_dim"]
    kwargs.update(ARCH_OVERRIDES.get(model_type, {}))
    kwargs.update(overrides)
    try:
        return cls(**kwargs)
    except Exception as e:
        raise NotBuildable(f"tiny config rejected: {type(e).__name__}: {e}") from None


def count_parameters(config: Any) -> int:
    """Parameters of the causal LM of `config`, counted on the meta device (nothing allocated)."""
    from transformers import AutoModelForCausalLM

    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config)
    return sum(p.numel() for p in model.parameters())


def tiny_model(
    model_type: str, *, seed: int = 0, init_std: float = 0.08, **overrides: Any
) -> torch.nn.Module:
    """A float32 causal LM of `model_type` with seeded normal(0, init_std) matrices and zero-mean vectors
    left as initialised. Raises NotBuildable (with the reason) when it cannot be built tiny or fails a
    forward pass."""
    from transformers import AutoModelForCausalLM

    config = tiny_config(model_type, **overrides)
    try:
        n = count_parameters(config)
    except Exception as e:
        raise NotBuildable(f"model cannot be built: {type(e).__name__}: {e}") from None
    if n > MAX_PARAMETERS:
        raise NotBuildable(f"not tiny: {n:,} parameters with the tiny sizes (limit {MAX_PARAMETERS:,})")
    torch.manual_seed(seed)
    try:
        model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
        with torch.no_grad():
            for p in model.parameters():
                if p.dim() == 2:
                    p.normal_(0.0, init_std)
            model.eval()(input_ids=torch.arange(3, 11)[None])
    except Exception as e:
        raise NotBuildable(f"tiny model fails: {type(e).__name__}: {str(e)[:200]}") from None
    return model


def buildable() -> Iterator[tuple[str, torch.nn.Module | NotBuildable]]:
    """(model_type, tiny model or the NotBuildable reason) for every causal-LM architecture."""
    for model_type in causal_lm_types():
        try:
            yield model_type, tiny_model(model_type)
        except NotBuildable as e:
            yield model_type, e
