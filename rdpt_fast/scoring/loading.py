"""Loading a causal LM for scoring: device and dtype names, the attention implementation "auto" stands for,
and the model with its tokenizer (safetensors only)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from rdpt_fast.scoring.capabilities import supported_attention


def resolve_device(device: str | torch.device) -> torch.device:
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def resolve_dtype(dtype: str | torch.dtype, device: torch.device) -> torch.dtype:
    """ "auto": bfloat16 on a GPU that supports it, else float32; names like "float16" or torch dtypes."""
    if isinstance(dtype, torch.dtype):
        return dtype
    if dtype == "auto":
        if device.type == "cuda" and torch.cuda.is_bf16_supported():
            return torch.bfloat16
        return torch.float32
    names = {
        **{"float32": torch.float32, "fp32": torch.float32, "bfloat16": torch.bfloat16},
        **{"bf16": torch.bfloat16, "float16": torch.float16, "fp16": torch.float16},
    }
    if dtype not in names:
        raise ValueError(f"dtype must be 'auto' or one of {', '.join(names)}, got {dtype!r}")
    return names[dtype]


def auto_attention(path: str | Path, device: torch.device, trust_remote_code: bool) -> str | None:
    """The attention implementation "auto" stands for with this model (None: transformers' own default,
    for a class transformers does not map, e.g. remote code)."""
    from transformers import AutoConfig
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING

    config = AutoConfig.from_pretrained(str(path), trust_remote_code=trust_remote_code)
    try:
        model_class = MODEL_FOR_CAUSAL_LM_MAPPING[type(config)]
    except KeyError:
        return None
    return supported_attention(model_class, device)


#: `load_model(device=SHARDED)`: spread the model over every GPU this process sees (`device_map="auto"`).
SHARDED = "sharded"


def load_model(
    path: str | Path,
    *,
    device: str | torch.device,
    dtype: str | torch.dtype = "auto",
    attn_implementation: str = "auto",
    trust_remote_code: bool = False,
) -> tuple[torch.nn.Module, Any]:
    """A causal LM (in eval mode, on `device`) and its tokenizer from a local directory or hub id
    (safetensors only). `device` SHARDED spreads the model over every visible GPU (`device_map="auto"`);
    the one loader of the package (Scorer, run executors, Ray workers)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    sharded = str(device) == SHARDED
    where = torch.device("cuda") if sharded else resolve_device(device)
    kwargs: dict[str, Any] = {
        "dtype": resolve_dtype(dtype, where),
        "use_safetensors": True,
        "trust_remote_code": trust_remote_code,
    }
    if attn_implementation == "auto":
        attn_implementation = auto_attention(path, where, trust_remote_code)
    kwargs["attn_implementation"] = attn_implementation
    if sharded:
        kwargs["device_map"] = "auto"
    model = AutoModelForCausalLM.from_pretrained(str(path), **kwargs)
    tokenizer = AutoTokenizer.from_pretrained(str(path), trust_remote_code=trust_remote_code)
    return (model if sharded else model.to(where)).eval(), tokenizer
