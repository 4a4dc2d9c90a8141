"""Where one role's scores come from (`ModelSource`), and the role's Scorer built from it on a device."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rdpt_fast.scoring.config import ScorerConfig

#: Record fields that carry precomputed log-probs (`rdpt_fast.scoring.precomputed`).
PRECOMPUTED_KEYS = ("token_ids", "logprobs", "logprobs_model")
#: A record as one role's Scorer should see it.
RecordView = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class ModelSource:
    """One role's model.

    model: a model directory or hub id, or a ready `Scorer` (its own settings are used), or None for
        precomputed log-probs only. tokenizer: the tokenizer's directory when `model` is None.
    logprobs_field / token_ids_field: record fields holding the response's token ids and their log-probs
        under this model (e.g. from the sampling engine); records without them cannot be scored.
    name: the model's name in the outputs (default: the model folder's name).
    """

    model: Any
    tokenizer: str | Path | None = None
    logprobs_field: str | None = None
    token_ids_field: str = "token_ids"
    name: str | None = None

    def __post_init__(self) -> None:
        if self.model is None and (self.tokenizer is None or self.logprobs_field is None):
            raise ValueError("a role without a model needs a tokenizer and a logprobs field")

    @property
    def precomputed(self) -> bool:
        return self.logprobs_field is not None

    @property
    def is_path(self) -> bool:
        """The model is a directory or hub id (what a Ray worker can load)."""
        return isinstance(self.model, (str, Path))

    def describe(self) -> dict[str, Any]:
        """The source as recorded in run.json (a folder scored with another source is not resumed)."""
        model = self.model
        if model is not None and not self.is_path:
            model = f"<{type(model).__name__} {getattr(model, 'name', '')}>"
        return {
            "model": None if model is None else str(model),
            "tokenizer": None if self.tokenizer is None else str(self.tokenizer),
            "logprobs_field": self.logprobs_field,
            "token_ids_field": self.token_ids_field if self.logprobs_field else None,
            **({"name": self.name} if self.name else {}),
        }

    def check(self, role: str) -> None:
        """ValueError naming the role and what is missing when the model (or tokenizer) directory cannot be
        loaded: checked before any pass starts, so that a typo does not surface after hours of scoring."""
        if self.model is None:
            check_tokenizer_dir(Path(str(self.tokenizer)), role)
        elif self.is_path:
            check_model_dir(str(self.model), role)

    def record_fields(self) -> tuple[str, ...]:
        """Record fields this role reads besides id, prompt, response and segments."""
        return (self.logprobs_field, self.token_ids_field) if self.logprobs_field else ()


#: A hub id ("org/name" or "name"): loaded by transformers from the hub or its cache, not checked here.
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")
_TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json")


def check_model_dir(model: str, role: str) -> None:
    """A model directory holds a config, safetensors weights and a tokenizer; a name that is no directory
    must read as a hub id."""
    path = Path(model).expanduser()
    if not path.exists():
        if _HUB_ID.match(model) and not model.startswith((".", "~")):
            return
        raise ValueError(f"--{role} {model}: no such model directory")
    if not path.is_dir():
        raise ValueError(
            f"--{role} {model}: not a directory (a model directory holds config.json and weights)"
        )
    if not (path / "config.json").is_file():
        raise ValueError(f"--{role} {model}: no config.json in the model directory")
    if not any(path.glob("*.safetensors")):
        pickled = any(path.glob("pytorch_model*.bin")) or any(path.glob("*.pt"))
        what = "only pickled weights (pytorch_model.bin); convert them to safetensors" if pickled else "none"
        raise ValueError(f"--{role} {model}: no safetensors weights in the directory ({what})")
    check_tokenizer_dir(path, role)


def check_tokenizer_dir(path: Path, role: str) -> None:
    if not path.is_dir():
        raise ValueError(f"--{role} {path}: no such tokenizer directory")
    if not any((path / name).is_file() for name in _TOKENIZER_FILES):
        raise ValueError(f"--{role} {path}: no tokenizer in the directory ({' or '.join(_TOKENIZER_FILES)})")


#: transformers' loading is not thread-safe (global init flags: a tied head can come out "missing"), so
#: roles on several devices load their models one at a time and then run in parallel.
_LOAD_LOCK = threading.Lock()


def build_scorer(
    source: ModelSource, role: str, device: str, config: ScorerConfig, *, quiet: bool = False
) -> tuple[Any, RecordView]:
    """The role's `Scorer` on `device` ("auto", "cpu", "cuda:N" or `loading.SHARDED`) and the view of a
    record it should score. quiet: no loading progress bars."""
    from rdpt_fast.scoring import Scorer

    with _LOAD_LOCK, loading_bars(not quiet):
        if isinstance(source.model, Scorer):
            scorer = source.model
        elif source.model is None:
            from transformers import AutoTokenizer

            tok = AutoTokenizer.from_pretrained(
                str(source.tokenizer), trust_remote_code=config.trust_remote_code
            )
            scorer = Scorer(None, tok, name=source.name or role, segment_options=config.segment_options)
        else:
            scorer = Scorer(source.model, device=device, name=source.name, config=config)
    return scorer, record_view(source, scorer.name)


@contextmanager
def loading_bars(shown: bool) -> Iterator[None]:
    """transformers' weight-loading progress bars on (as they are) or off for the block."""
    if shown:
        yield
        return
    from transformers.utils import logging as hf_logging

    was_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_on:
            hf_logging.enable_progress_bar()


def record_view(source: ModelSource, scorer_name: str) -> RecordView:
    """A model role always runs its model (precomputed log-probs a record carries are dropped); a
    precomputed role takes its log-probs from the source's fields, under the scorer's name."""
    if not source.precomputed:

        def view(fields: dict[str, Any]) -> dict[str, Any]:
            return {k: v for k, v in fields.items() if k not in PRECOMPUTED_KEYS}

        return view
    lp_field, ids_field = source.logprobs_field, source.token_ids_field

    def precomputed_view(fields: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in fields.items() if k not in PRECOMPUTED_KEYS}
        if fields.get(lp_field) is not None and fields.get(ids_field) is not None:
            out.update(token_ids=fields[ids_field], logprobs=fields[lp_field], logprobs_model=scorer_name)
        return out

    return precomputed_view


def model_info(source: ModelSource, scorer: Any) -> dict[str, Any]:
    """What run.json records of a role's model: name, source, dtype, attention, execution paths."""
    model = scorer.model
    return {
        "name": scorer.name,
        "source": "precomputed" if source.precomputed else "model",
        **source.describe(),
        "dtype": str(next(model.parameters()).dtype) if model is not None else None,
        "attn_implementation": getattr(getattr(model, "config", None), "_attn_implementation", None),
        "paths": scorer.stats.paths,
    }
