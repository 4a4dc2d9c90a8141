"""Load-time self-check: each fast path of the Runner against the model's own forward, on a short probe.

The probe is a handful of random-token traces (a few dozen tokens; longer than the model's sliding
window or attention chunk when it has one of at most `MAX_WINDOW_PROBE` tokens, so that windows are
crossed). Every token is its own sentence, so the comparison is per token: the Runner's log-prob of
token k against `log_softmax(model(ids).logits[k - 1])[ids[k]]` (float64). The plain path (one trace
alone) must agree, else `ModelCheckError`; a batched, packed or shared path that disagrees (or raises)
is turned off with its reason.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
import torch

from rdpt_fast.scoring.batching import Batch, PackedBatch, SharedBatch
from rdpt_fast.scoring.capabilities import Capabilities
from rdpt_fast.scoring.prepare import Prepared
from rdpt_fast.scoring.runner import Runner, is_oom
from rdpt_fast.segments import Segments

log = logging.getLogger("rdpt_fast")

#: Windows (sliding attention, attention chunks) up to this many tokens are crossed by the probe.
MAX_WINDOW_PROBE = 4096
#: Pack modes tried in order; the first exact one is kept.
PACK_MODES = ("positions", "mask")


class ModelCheckError(RuntimeError):
    """Even the plain fast path differs from the model's own forward: the model cannot be scored fast."""


@dataclass(frozen=True)
class Tolerance:
    """Per-token agreement required (nats): max |diff| and mean |diff| over the probe's tokens."""

    max_abs: float
    mean_abs: float

    @staticmethod
    def for_dtype(dtype: torch.dtype) -> Tolerance:
        if dtype in (torch.float32, torch.float64):
            return Tolerance(max_abs=1e-3, mean_abs=1e-4)
        return Tolerance(max_abs=0.5, mean_abs=0.02)  # bf16 / fp16: kernels round differently per shape


#: Layer types that attend within a window or chunk (a window set in a config without them is unused).
WINDOWED_LAYER_TYPES = frozenset({"sliding_attention", "chunked_attention", "local"})


def window_of(config: object) -> int | None:
    """The shortest sliding window / attention chunk the model uses, if any: a config's window counts
    unless its layer types list no windowed layer or `use_sliding_window` is False (Qwen2 sets a window
    it does not use)."""
    types = set(getattr(config, "layer_types", None) or [])
    if (types and not types & WINDOWED_LAYER_TYPES) or getattr(config, "use_sliding_window", None) is False:
        return None
    sizes = []
    for name in ("sliding_window", "attention_chunk_size", "window_size"):
        value = getattr(config, name, None)
        if isinstance(value, int) and value > 0:
            sizes.append(value)
    return min(sizes) if sizes else None


def random_ids(length: int, vocab: int, seed: int) -> np.ndarray:
    """`length` seeded random token ids below min(vocab, 32000), int64."""
    return np.random.default_rng(seed).integers(0, min(vocab, 32000), size=length, dtype=np.int64)


def probe_trace(index: int, ids: np.ndarray, num_prefix: int = 0) -> Prepared:
    """A trace of `ids` whose tokens from `max(num_prefix, 1)` on are one sentence each."""
    length = len(ids)
    first = max(num_prefix, 1)
    seg_ids = np.full(length, -1, dtype=np.int64)
    seg_ids[first:] = np.arange(length - first)
    n = length - first
    spans = Segments(np.arange(n, dtype=np.int64), np.arange(1, n + 1, dtype=np.int64), np.zeros(n, np.int8))
    return Prepared(index, f"probe-{index}", {}, "", spans, ids, seg_ids, num_prefix)


def probe_set(vocab: int, window: int | None) -> tuple[list[Prepared], list[Prepared], list[Prepared]]:
    """Probe traces: two rows of different lengths (the first alone is the plain probe), two traces to
    pack in one row, three continuations of one prompt. Longer than `window` when it is small enough."""
    extra = window + 8 if window is not None and window <= MAX_WINDOW_PROBE else 0
    rows = [
        probe_trace(0, random_ids(24 + extra, vocab, 1)),
        probe_trace(1, random_ids(17 + extra, vocab, 2)),
    ]
    packed = [
        probe_trace(2, random_ids(13 + extra, vocab, 3)),
        probe_trace(3, random_ids(11 + extra, vocab, 4)),
    ]
    prompt = random_ids(9 + extra // 2, vocab, 5)
    shared = [
        probe_trace(4 + i, np.concatenate([prompt, random_ids(n + extra, vocab, 6 + i)]), len(prompt))
        for i, n in enumerate((14, 9, 12))
    ]
    return rows, packed, shared


@torch.inference_mode()
def own_logprobs(model: torch.nn.Module, p: Prepared) -> np.ndarray:
    """Per-token log-probs of p's scored tokens from the model's own forward (float64)."""
    device = next(model.parameters()).device
    ids = torch.from_numpy(p.input_ids)[None].to(device)
    logits = model(input_ids=ids).logits[0].to(torch.float64)
    logp = torch.log_softmax(logits[:-1], dim=-1).gather(1, ids[0, 1:, None])[:, 0].cpu().numpy()
    return logp[p.first_scored - 1 :]


def disagreement(runner: Runner, batch: Batch, truth: dict[int, np.ndarray]) -> tuple[float, float]:
    """(max, mean) |runner - own forward| over the tokens of every trace of `batch`."""
    scores = runner.run(batch)
    diffs = np.concatenate([np.abs(s.sum_logprob - truth[p.index]) for p, s in zip(batch.traces, scores)])
    if not np.all(np.isfinite(diffs)):
        return float("inf"), float("inf")
    return float(diffs.max()), float(diffs.mean())


def run_self_check(
    model: torch.nn.Module, runner: Runner, caps: Capabilities, architecture: str
) -> Capabilities:
    """Confirms or turns off each path of `caps` (changed in place and returned); sets `runner.pack_mode`."""
    t0 = time.perf_counter()
    tol = Tolerance.for_dtype(runner.head.weight.dtype)
    vocab = runner.head.weight.shape[0]
    rows, packed, shared = probe_set(vocab, window_of(model.config))
    plain = rows[0]
    try:
        truth = {p.index: own_logprobs(model, p) for p in [*rows, *packed, *shared]}
    except Exception as e:
        if is_oom(e):
            raise
        raise ModelCheckError(
            f"{architecture}: the model's own forward fails on the self-check probe "
            f"({type(e).__name__}: {str(e)[:160]})"
        ) from e

    def agrees(batch: Batch) -> str | None:
        """None when the batch agrees with the truth, else why not."""
        try:
            worst, mean = disagreement(runner, batch, truth)
        except Exception as e:  # any failure of a fast path turns it off, with the error as the reason
            if is_oom(e):
                raise
            return f"self-check failed: {type(e).__name__}: {str(e)[:160]}"
        if worst <= tol.max_abs and mean <= tol.mean_abs:
            return None
        return f"self-check: differs from the model's own forward by up to {worst:.3g} nats per token"

    why = agrees(PackedBatch([[plain]]))
    if why is not None:
        raise ModelCheckError(
            f"{architecture}: the fast path does not reproduce the model's own forward ({why}); "
            "score it with mode='reference' (--mode reference)"
        )
    if caps.batch and (why := agrees(PackedBatch([[p] for p in rows]))):
        caps.turn_off("batch", why)
    if caps.pack:
        failures = []
        for mode in PACK_MODES:
            runner.pack_mode = mode
            why = agrees(PackedBatch([packed]))
            if why is None:
                caps.pack_mode = mode
                break
            failures.append(f"{mode}: {why}")
        else:
            caps.turn_off("pack", "; ".join(failures))
    if caps.share and (why := agrees(SharedBatch(shared))):
        caps.turn_off("share", why)
    runner.pack_mode = caps.pack_mode
    caps.checked = True
    caps.seconds = time.perf_counter() - t0
    for path, reason in caps.reasons.items():
        log.warning("%s: %s path turned off: %s", architecture, path, reason)
    return caps
