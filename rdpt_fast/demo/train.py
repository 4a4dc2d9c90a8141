"""Tokenizer and tiny causal-LM training for the demo lab, and its cache directory.

The tokenizer is a small byte-level BPE (`rdpt_fast.scoring.tiny.train_tokenizer`) with the ChatML
`THINK_TEMPLATE`; the models are Qwen2 architectures (`tiny.random_model`) trained with a plain AdamW loop
on the CPU. A training example is exactly the string the Scorer reads: the prompt rendered by the chat
template (`PromptRenderer.context`, whose pre-filled `<think>\\n` is cut because responses start with it),
then the response and `<|im_end|>`; the loss covers the response tokens only.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import shutil
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from rdpt_fast import __version__
from rdpt_fast.scoring import tiny
from rdpt_fast.scoring.templates import PromptRenderer

EOS = "<|im_end|>"
#: Bumped when the lab's output changes for the same settings (part of the cache key).
LAB_FORMAT = 1


@dataclass(frozen=True)
class ModelShape:
    """A Qwen2 config: hidden size, layers, attention heads and key/value heads (MLP = 2 x hidden)."""

    hidden_size: int = 128
    num_layers: int = 2
    num_heads: int = 4
    num_kv_heads: int = 2
    max_positions: int = 256


@dataclass(frozen=True)
class TrainConfig:
    """One training run: optimizer steps, sequences per batch, peak learning rate (linear warm-up over
    `warmup` steps, then cosine decay to 10%)."""

    steps: int
    batch_size: int = 32
    lr: float = 3e-3
    warmup: int = 10


def cache_root() -> Path:
    """$RDPT_FAST_CACHE if set, else $XDG_CACHE_HOME/rdpt-fast, else ~/.cache/rdpt-fast."""
    if os.environ.get("RDPT_FAST_CACHE"):
        return Path(os.environ["RDPT_FAST_CACHE"])
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "rdpt-fast"


def cache_key(settings: Mapping[str, Any]) -> str:
    """A 16-hex-digit key of the settings (seed included), the package version and LAB_FORMAT."""
    blob = json.dumps(
        {"settings": settings, "version": __version__, "format": LAB_FORMAT}, sort_keys=True, default=str
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


@contextmanager
def atomic_dir(final: Path) -> Iterator[Path]:
    """Yields a fresh temporary directory beside `final`; on success it is renamed to `final`. Any error
    removes it. When another process created `final` meanwhile, that one is kept and ours is dropped."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.parent / f".tmp-{final.name}-{os.getpid()}-{time.monotonic_ns()}"
    tmp.mkdir()
    try:
        yield tmp
        try:
            tmp.rename(final)
        except OSError:
            if not final.is_dir():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def build_tokenizer(texts: Sequence[str], vocab_size: int, path: Path) -> Any:
    """A byte-level BPE tokenizer over `texts` with the ChatML `<think>` template, saved into `path` beside
    a Qwen2 config and loaded back with `AutoTokenizer`: exactly the tokenizer a Qwen2 model directory
    loads (transformers picks the architecture's tokenizer class, whose pre-tokenizer splits digits), so
    training, sampling and scoring all tokenize alike."""
    from transformers import AutoTokenizer, Qwen2Config

    tokenizer = tiny.train_tokenizer(texts, vocab_size, chat_template=tiny.THINK_TEMPLATE)
    tokenizer.save_pretrained(path)
    Qwen2Config(vocab_size=len(tokenizer)).save_pretrained(path)
    return AutoTokenizer.from_pretrained(path)


def new_model(vocab_size: int, shape: ModelShape, seed: int) -> torch.nn.Module:
    """A freshly initialised Qwen2 causal LM (normal(0, 0.02) matrices, tied embeddings), in train mode."""
    model = tiny.random_model(
        "qwen2",
        vocab_size,
        hidden_size=shape.hidden_size,
        num_layers=shape.num_layers,
        num_heads=shape.num_heads,
        num_kv_heads=shape.num_kv_heads,
        max_positions=shape.max_positions,
        seed=seed,
        init_std=0.02,
        tie_word_embeddings=True,
    )
    return model.train()


def encode(tokenizer: Any, records: Sequence[Mapping[str, Any]], max_len: int) -> list[tuple[list[int], int]]:
    """(token ids, number of context tokens) per record: context (as the Scorer renders it) + response
    + EOS. Raises ValueError for an example longer than `max_len` tokens."""
    renderer = PromptRenderer(tokenizer)
    out = []
    for r in records:
        context = renderer.context(r["prompt"], r["response"]).text
        head = tokenizer(context, add_special_tokens=False)["input_ids"]
        tail = tokenizer(r["response"] + EOS, add_special_tokens=False)["input_ids"]
        if len(head) + len(tail) > max_len:
            raise ValueError(f"record {r['id']}: {len(head) + len(tail)} tokens exceed max_len {max_len}")
        out.append((head + tail, len(head)))
    return out


def _batch(examples: Sequence[tuple[list[int], int]], pad_id: int) -> dict[str, torch.Tensor]:
    width = max(len(ids) for ids, _ in examples)
    input_ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    labels = torch.full((len(examples), width), -100, dtype=torch.long)
    mask = torch.zeros((len(examples), width), dtype=torch.long)
    for i, (ids, n_context) in enumerate(examples):
        row = torch.tensor(ids, dtype=torch.long)
        input_ids[i, : len(ids)] = row
        labels[i, n_context : len(ids)] = row[n_context:]
        mask[i, : len(ids)] = 1
    return {"input_ids": input_ids, "attention_mask": mask, "labels": labels}


def train_lm(
    model: torch.nn.Module,
    examples: Sequence[tuple[list[int], int]],
    config: TrainConfig,
    *,
    pad_id: int,
    seed: int,
) -> dict[str, float]:
    """Trains `model` in place on `examples` (from `encode`), batches drawn by a seeded shuffle (epoch by
    epoch). Returns {"seconds", "first_loss", "final_loss"} (final: mean of the last 10 steps); the model
    is left in eval mode."""
    rng = random.Random(seed)
    torch.manual_seed(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=config.lr, betas=(0.9, 0.98), weight_decay=0.01)

    def lr_at(step: int) -> float:
        if step < config.warmup:
            return (step + 1) / config.warmup
        progress = (step - config.warmup) / max(1, config.steps - config.warmup)
        return 0.1 + 0.45 * (1.0 + math.cos(math.pi * progress))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    order: list[int] = []
    losses: list[float] = []
    start = time.perf_counter()
    model.train()
    for _ in range(config.steps):
        if len(order) < config.batch_size:
            fresh = list(range(len(examples)))
            rng.shuffle(fresh)
            order += fresh
        picked, order = order[: config.batch_size], order[config.batch_size :]
        loss = model(**_batch([examples[i] for i in picked], pad_id)).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        losses.append(loss.item())
    model.eval()
    tail = losses[-10:]
    return {
        "seconds": time.perf_counter() - start,
        "first_loss": losses[0],
        "final_loss": sum(tail) / len(tail),
    }


def save_model(model: torch.nn.Module, tokenizer: Any, path: Path) -> tuple[torch.nn.Module, Any]:
    """Saves model and tokenizer with `save_pretrained` (safetensors) into `path` and loads them back the
    way real checkpoints are loaded; returns the reloaded pair (float32, eval mode)."""
    return tiny.save_and_reload(model, tokenizer, path)


def describe(path: Path) -> dict[str, Any]:
    """Architecture, size and parameter count of the checkpoint in `path` (for the lab manifest)."""
    from safetensors import safe_open

    config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    with safe_open(str(path / "model.safetensors"), "pt") as f:
        parameters = sum(math.prod(f.get_slice(k).get_shape()) for k in f.keys())  # noqa: SIM118
    keys = ("model_type", "hidden_size", "num_hidden_layers", "num_attention_heads", "vocab_size")
    return {"parameters": parameters, **{k: config.get(k) for k in keys}}
