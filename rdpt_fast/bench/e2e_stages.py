"""Where one `Scorer.score` call's time goes, by stage, measured by timing the Scorer's own methods.

* ``trunk``: the forward passes of the base model (`Runner.forward_packed`, `Runner.forward_shared`);
* ``head``: the head and the per-sentence reduction, host copies of the results included
  (`Runner.score_hidden`);
* ``other``: the rest of the main thread (planning, batch assembly, result building);
* ``prepare_thread_cpu``: tokenization, segmentation and validation (`Scorer._prepare_window`) in CPU
  seconds of the background thread that runs them while the main thread scores the previous window
  (overlapped, so not part of ``total``);
* ``total``: wall-clock seconds of the call.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

#: (object attribute: "runner" or "scorer", method, stage)
TIMED_METHODS = (
    ("runner", "forward_packed", "trunk"),
    ("runner", "forward_shared", "trunk"),
    ("runner", "score_hidden", "head"),
    ("scorer", "_prepare_window", "prepare_thread_cpu"),
)


def _timing(fn: Callable[..., Any], stage: str, spent: dict[str, float]) -> Callable[..., Any]:
    clock = time.thread_time if stage == "prepare_thread_cpu" else time.perf_counter

    def timed_call(*args: Any, **kwargs: Any) -> Any:
        start = clock()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[stage] += clock() - start

    return timed_call


def stage_seconds(scorer: Any, records: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """Seconds per stage (see the module docstring) of one `scorer.score(records)` call."""
    spent = {"trunk": 0.0, "head": 0.0, "prepare_thread_cpu": 0.0}
    owners = {"runner": scorer.runner, "scorer": scorer}
    for owner, name, stage in TIMED_METHODS:  # instance attributes shadow the methods for this call
        setattr(owners[owner], name, _timing(getattr(owners[owner], name), stage, spent))
    try:
        start = time.perf_counter()
        list(scorer.score(records))
        total = time.perf_counter() - start
    finally:
        for owner, name, _ in TIMED_METHODS:
            delattr(owners[owner], name)
    return {**spent, "other": total - spent["trunk"] - spent["head"], "total": total}
