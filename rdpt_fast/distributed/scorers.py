"""How a Ray actor builds its Scorer: picklable factories, called in the actor with its device.

A factory is called with "cpu", "cuda" (the actor's GPU: Ray sets CUDA_VISIBLE_DEVICES) or `SHARDED` (the
actor holds several GPUs: the model is spread over all of them with `device_map="auto"`), and returns the
Scorer and the view of a record it should score (None: the record as it is).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from rdpt_fast.rdpt.run import ModelSource, RunOptions, build_scorer

SHARDED = "sharded"
#: Scorer keywords that only concern loading the model.
LOAD_KEYS = ("dtype", "attn_implementation", "trust_remote_code")

Factory = Callable[[str], tuple[Any, Callable | None]]


def sharded_scorer(model: str | Path, **kwargs: Any) -> Any:
    """A Scorer of `model` spread over every GPU this process sees (`device_map="auto"`); `kwargs` are
    Scorer keywords."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from rdpt_fast.scoring import Scorer
    from rdpt_fast.scoring.loading import auto_attention, resolve_dtype

    load = {k: kwargs.pop(k) for k in LOAD_KEYS if k in kwargs}
    trust = load.get("trust_remote_code", False)
    attn = load.get("attn_implementation", "auto")
    if attn == "auto":
        attn = auto_attention(model, torch.device("cuda"), trust)
    loaded = AutoModelForCausalLM.from_pretrained(
        str(model),
        device_map="auto",
        dtype=resolve_dtype(load.get("dtype", "auto"), torch.device("cuda")),
        use_safetensors=True,
        trust_remote_code=trust,
        attn_implementation=attn,
    )
    tokenizer = AutoTokenizer.from_pretrained(str(model), trust_remote_code=trust)
    name = kwargs.pop("name", None) or Path(str(model)).name
    return Scorer(loaded, tokenizer, device="auto", name=name, **kwargs)


@dataclass(frozen=True)
class RoleScorer:
    """One role of a trace or select run: `build_scorer` on the actor's device (the model must be a
    directory every worker can read, or a hub id; a loaded Scorer cannot travel)."""

    source: ModelSource
    role: str
    options: RunOptions

    def __post_init__(self) -> None:
        if self.source.model is not None and not isinstance(self.source.model, (str, Path)):
            raise ValueError(
                f"{self.role}: with the ray executor a model must be a directory or hub id, "
                f"not a {type(self.source.model).__name__}"
            )

    def __call__(self, device: str) -> tuple[Any, Callable | None]:
        source = self.source
        if device == SHARDED and source.model is not None:
            source = replace(source, model=sharded_scorer(source.model, **self.options.scorer_kwargs()))
            device = "auto"
        return build_scorer(source, self.role, device, self.options)


@dataclass(frozen=True)
class PlainScorer:
    """A Scorer of `model` with Scorer keywords `kwargs`, scoring records as they are (`rdpt-fast score`)."""

    model: str
    kwargs: Mapping[str, Any]

    def __call__(self, device: str) -> tuple[Any, None]:
        from rdpt_fast.scoring import Scorer

        if device == SHARDED:
            return sharded_scorer(self.model, **self.kwargs), None
        return Scorer(self.model, device=device, **self.kwargs), None
