"""What the scorer needs from a causal LM: its base model (hidden states after the final norm) and the
parameters of its output head (weight, bias, logit scale, final softcap)."""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class HeadParams:
    """The LM head as `rdpt_fast.head.segment_logprobs` takes it.

    weight [V, H] in the model's dtype (the tied input embedding when tied), bias [V] float32 or None,
    logit_scale (Cohere `logit_scale`; 1 / `logits_scaling` for Granite and MiniCPM3, which divide the
    logits or the final hidden states by it; else 1.0), softcap (Gemma-2 `final_logit_softcapping`,
    RecurrentGemma `logits_soft_cap`, else None). A head these do not describe is caught by the
    Scorer's self-check.
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
    divisor = _config_value(model.config, "logits_scaling")
    softcap = _config_value(model.config, "final_logit_softcapping") or _config_value(
        model.config, "logits_soft_cap"
    )
    logit_scale = 1.0 if scale is None else float(scale)
    if divisor:
        logit_scale /= float(divisor)
    return HeadParams(
        weight=weight.detach(),
        bias=bias,
        logit_scale=logit_scale,
        softcap=None if not softcap else float(softcap),
    )


def _takes_input_ids(module: object) -> bool:
    return isinstance(module, torch.nn.Module) and "input_ids" in inspect.signature(module.forward).parameters


def base_model(model: torch.nn.Module) -> torch.nn.Module:
    """The decoder stack whose output `last_hidden_state` is taken after the final norm: the model's
    decoder, else its `base_model_prefix` attribute, else its `model` attribute (whichever takes
    input ids; `get_decoder` of some classes returns the LM head's decoder layer)."""
    candidates = [model.get_decoder() if hasattr(model, "get_decoder") else None]
    candidates += [
        getattr(model, getattr(model, "base_model_prefix", "model"), None),
        getattr(model, "model", None),
    ]
    for inner in candidates:
        if inner is not model and _takes_input_ids(inner):
            return inner
    raise ValueError(f"cannot find the base model of {type(model).__name__}")
