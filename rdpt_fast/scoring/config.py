"""`ScorerConfig`: every option of a `Scorer`, in one frozen dataclass.

The command line derives its flags and defaults from these fields (`rdpt_fast.cli.options`), a run holds one
(`rdpt_fast.engine.config.RunConfig.scorer`) and the Ray workers receive it as it is: no option list is
written twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal

Mode = Literal["fast", "reference"]
HeadBackend = Literal["auto", "triton", "cublas", "torch", "reference"]
SharePrompts = Literal["auto"] | bool


@dataclass(frozen=True)
class ScorerConfig:
    """How a `Scorer` loads and runs its model.

    dtype: "auto" (bfloat16 on a GPU that has it, else float32), "float32", "bfloat16", "float16".
    template: "auto" (the tokenizer's chat template when it has one, else raw), None (raw: the scored text
        is exactly prompt + response), or a Jinja chat template string.
    attn_implementation: "auto" (what the model class supports best here), "sdpa", "eager", ...
    max_tokens_per_batch: token budget of one forward pass (rows x padded length).
    head_backend: LM-head implementation (`rdpt_fast.head.BACKENDS`).
    mode: "fast" (batched, packed, shared prompts) or "reference" (one record at a time, full logits).
    share_prompts: "auto" (records with one prompt share its KV cache where `ForwardCosts` says it is
        faster for this model on this device), True (wherever the planner's padding rule allows) or False.
    pack / pack_width: pack short traces into rows of at most `pack_width` tokens (fast mode).
    window: records read ahead and planned together; output keeps the input order.
    max_length: reject traces (prompt + response) longer than this many tokens (None: the model's
        context is the only limit).
    trust_remote_code: run the model repository's own code (transformers' flag).
    segment_options: keyword arguments of `rdpt_fast.segment` for records without `segments`.
    self_check: compare each fast path with the model's own forward at load time (see `Scorer`).
    """

    dtype: str = "auto"
    template: str | None = "auto"
    attn_implementation: str = "auto"
    max_tokens_per_batch: int = 16384
    head_backend: HeadBackend = "auto"
    mode: Mode = "fast"
    share_prompts: SharePrompts = "auto"
    pack: bool = True
    pack_width: int = 1024
    window: int = 256
    max_length: int | None = None
    trust_remote_code: bool = False
    segment_options: Mapping[str, Any] = field(default_factory=dict)
    self_check: bool = True

    def __post_init__(self) -> None:
        if self.mode not in ("fast", "reference"):
            raise ValueError(f"mode must be 'fast' or 'reference', got {self.mode!r}")
        for name in ("max_tokens_per_batch", "pack_width", "window"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.max_length is not None and (not isinstance(self.max_length, int) or self.max_length < 2):
            raise ValueError(f"max_length must be an integer of at least 2, got {self.max_length!r}")
        if self.share_prompts not in ("auto", True, False):
            raise ValueError(f"share_prompts must be 'auto', True or False, got {self.share_prompts!r}")

    @classmethod
    def build(cls, config: ScorerConfig | None = None, **overrides: Any) -> ScorerConfig:
        """`config` (default: the defaults) with `overrides` applied; TypeError naming an unknown option."""
        unknown = sorted(set(overrides) - set(option_names()))
        if unknown:
            raise TypeError(f"unknown Scorer option(s): {', '.join(unknown)}")
        return replace(config or cls(), **overrides)

    def load_options(self) -> dict[str, Any]:
        """The options that concern loading the model (`rdpt_fast.scoring.loading.load_model`)."""
        return {
            "dtype": self.dtype,
            "attn_implementation": self.attn_implementation,
            "trust_remote_code": self.trust_remote_code,
        }


def option_names() -> tuple[str, ...]:
    """Names of every `ScorerConfig` option."""
    return tuple(f.name for f in fields(ScorerConfig))
