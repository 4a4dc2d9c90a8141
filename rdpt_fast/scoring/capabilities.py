"""Which execution paths of the Scorer are exact for a given model, decided from the model itself.

Paths beyond the plain one (one trace per row, causal attention):
- batch: several traces in one forward pass, one per row, right-padded;
- pack: several short traces end to end in one row (position ids restart per trace);
- share: one prompt's KV cache continued by K responses.
The static rules here turn a path off where it cannot be exact whatever the mask (state carried across
packed traces by recurrent, convolutional or linear-attention layers; a base model that takes no
position ids). What is left is confirmed by the load-time self-check (`self_check.py`), which compares
each path with the model's own forward and turns off what differs.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field
from typing import Any

import torch

PATHS = ("batch", "pack", "share")

#: Layer types whose only mixer is attention (anything else in `config.layer_types` carries state).
ATTENTION_LAYER_TYPES = frozenset(
    {"full_attention", "sliding_attention", "chunked_attention", "attention", "global", "local"}
)
#: Module class names of sequence mixers that carry state along the sequence (not attention).
STATEFUL_MIXER = re.compile(
    r"Mamba|Rwkv|RWKV|ShortConv|LinearAttention|LightningAttention|DeltaNet|Recurrent|RecurrentBlock|"
    r"mLSTM|sLSTM|Mlstm|Slstm|xLSTM|Ssm|SSM|KimiDelta|Hgrn|Retention"
)


@dataclass
class Capabilities:
    """Per path: on/off and why. `pack_mode`: how packed rows separate traces: "positions" (restarting
    position ids, the model builds its own per-layer masks) or "mask" (our block-diagonal 4D mask, per
    layer type when the model takes a dict). `checked`: the self-check confirmed what is on, in
    `seconds`."""

    batch: bool = True
    pack: bool = True
    share: bool = True
    pack_mode: str = "positions"
    reasons: dict[str, str] = field(default_factory=dict)
    checked: bool = False
    seconds: float = 0.0

    def turn_off(self, path: str, reason: str) -> None:
        """Turns `path` off; the first reason given is kept."""
        setattr(self, path, False)
        self.reasons.setdefault(path, reason)

    def describe(self) -> dict[str, Any]:
        """JSON-ready summary: each path's state and reason, the pack mode, whether self-checked (no timing:
        the same model gives the same summary)."""
        return {
            "paths": {
                p: "on" if getattr(self, p) else f"off: {self.reasons.get(p, 'turned off')}" for p in PATHS
            },
            "pack_mode": self.pack_mode if self.pack else None,
            "self_checked": self.checked,
        }


def stateful_mixers(model: torch.nn.Module) -> list[str]:
    """Names of the classes of layers that carry state along the sequence other than attention."""
    config = model.config
    found = {t for t in (getattr(config, "layer_types", None) or []) if t not in ATTENTION_LAYER_TYPES}
    for module in model.modules():
        name = type(module).__name__
        if module is model or name.endswith(("ForCausalLM", "Model", "DecoderLayer", "Block", "Norm")):
            continue  # containers and norms, not mixers
        if isinstance(module, torch.nn.Conv1d) or STATEFUL_MIXER.search(name):
            found.add(name)
    return sorted(found)


def architecture_name(model: torch.nn.Module) -> str:
    """The model's class name and model type, e.g. "MistralForCausalLM (mistral)"."""
    return f"{type(model).__name__} ({getattr(model.config, 'model_type', '?')})"


def static_capabilities(model: torch.nn.Module, base: torch.nn.Module) -> Capabilities:
    """Paths that can possibly be exact for `model`, from its config and modules."""
    caps = Capabilities()
    mixers = stateful_mixers(model)
    if mixers:
        caps.turn_off(
            "pack",
            f"layers other than plain attention ({', '.join(mixers[:4])}) carry state along the "
            "sequence or see across trace boundaries; packed traces would leak into each other",
        )
    if "position_ids" not in inspect.signature(base.forward).parameters:
        caps.turn_off("pack", "the base model takes no position ids, so positions cannot restart per trace")
    return caps


def supported_attention(model_class: type, device: torch.device) -> str:
    """What `attn_implementation="auto"` means for a model class: flash-attn on CUDA when installed and
    supported, else SDPA when supported, else eager."""
    if device.type == "cuda" and getattr(model_class, "_supports_flash_attn", False):
        try:
            import flash_attn  # noqa: F401

            return "flash_attention_2"
        except ImportError:
            pass
    if getattr(model_class, "_supports_sdpa", False):
        return "sdpa"
    return "eager"
