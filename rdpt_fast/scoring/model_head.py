"""What the scorer needs from a causal LM: its base model (hidden states after the final norm) and the
parameters of its output head (weight, bias, logit scale, final softcap)."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class HeadParams:
    """The LM head as `rdpt_fast.head.segment_logprobs` takes it.

    weight [V, H] in the model's dtype (the tied input embedding when tied), bias [V] float32 or None,
    logit_scale (Cohere `logit_scale`, else 1.0), softcap (Gemma-2 `final_logit_softcapping`, else None).
    """

    weight: torch.Tensor
    bias: torch.Tensor | None
    logit_scale: float
    softcap: float | None


def _config_value(config: object, name: str) -> object:
    value = getattr(config, name, None)
    if value is None and hasattr(config, "get_text_config"):
        value = getattr(config.get_text_config(), name, None)
    return value


def head_params(model: torch.nn.Module) -> HeadParams:
    """Output embedding, bias, logit scale and final softcap of a Hugging Face causal LM."""
    out = model.get_output_embeddings()
    if out is None or not hasattr(out, "weight"):
        raise ValueError(f"{type(model).__name__} has no output embedding (is it a causal LM?)")
    weight = out.weight
    if weight.dim() != 2:
        raise ValueError(f"output embedding weight must be [V, H], got {list(weight.shape)}")
    bias = getattr(out, "bias", None)
    bias = None if bias is None else bias.detach().to(torch.float32)
    scale = _config_value(model.config, "logit_scale")
    softcap = _config_value(model.config, "final_logit_softcapping")
    return HeadParams(
        weight=weight.detach(),
        bias=bias,
        logit_scale=1.0 if scale is None else float(scale),
        softcap=None if not softcap else float(softcap),
    )


def base_model(model: torch.nn.Module) -> torch.nn.Module:
    """The decoder stack whose output `last_hidden_state` is taken after the final norm."""
    if hasattr(model, "get_decoder"):
        decoder = model.get_decoder()
        if decoder is not None and decoder is not model:
            return decoder
    prefix = getattr(model, "base_model_prefix", "model")
    inner = getattr(model, prefix, None)
    if isinstance(inner, torch.nn.Module) and inner is not model:
        return inner
    raise ValueError(f"cannot find the base model of {type(model).__name__}")
