"""Micro-batching: sequences from concurrent requests arriving within a short window go to the scorer
together (so a question's K choices, sent as K requests or one, share their context's prefix pass).

One worker thread owns the model. It takes the first waiting sequence, collects more for up to
`window_s` or until `max_batch_tokens` tokens are gathered, scores them in one `SequenceScorer.score`
call and resolves each waiting future. The event loop never blocks on the model.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass

from rdpt_fast.scoring.sequences import SequenceRequest, SequenceScorer, SequenceScores

log = logging.getLogger("rdpt_fast.serve")


class ShuttingDown(RuntimeError):
    """The server stopped before this sequence was scored."""


@dataclass
class _Item:
    request: SequenceRequest
    future: Future


class MicroBatcher:
    """Batches `submit`ted sequences for one `SequenceScorer` (see the module docstring)."""

    def __init__(self, scorer: SequenceScorer, *, window_s: float, max_batch_tokens: int):
        self.scorer = scorer
        self.window_s = max(0.0, window_s)
        self.max_batch_tokens = max_batch_tokens
        self.batches = 0
        self._queue: queue.Queue[_Item | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="rdpt-fast-batcher", daemon=True)
        self._closed = False

    def start(self) -> None:
        self._thread.start()

    async def submit(self, requests: list[SequenceRequest]) -> list[SequenceScores]:
        """Scores of `requests` (they may be scored in different batches). Raises ShuttingDown after close."""
        if self._closed:
            raise ShuttingDown("the server is shutting down")
        futures = []
        for r in requests:
            future: Future = Future()
            self._queue.put(_Item(r, future))
            futures.append(asyncio.wrap_future(future))
        return list(await asyncio.gather(*futures))

    def close(self, timeout: float | None = None) -> None:
        """Stop after the sequences already submitted; later submits raise ShuttingDown."""
        self._closed = True
        self._queue.put(None)
        if self._thread.is_alive():
            self._thread.join(timeout)

    # -- worker -----------------------------------------------------------------------------------------
    def _collect(self, first: _Item) -> tuple[list[_Item], _Item | None, bool]:
        """(a batch starting with `first`, an item that did not fit, whether the stop marker was seen)."""
        batch, tokens = [first], len(first.request.ids)
        deadline = time.monotonic() + self.window_s
        while tokens < self.max_batch_tokens:
            remaining = deadline - time.monotonic()
            try:
                item = self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            if item is None:
                return batch, None, True
            if tokens + len(item.request.ids) > self.max_batch_tokens:
                return batch, item, False
            batch.append(item)
            tokens += len(item.request.ids)
        return batch, None, False

    def _run(self) -> None:
        carry: _Item | None = None
        stopping = False
        while True:
            first = carry if carry is not None else (None if stopping else self._queue.get())
            if first is None:
                break
            batch, carry, stop_seen = self._collect(first)
            stopping = stopping or stop_seen
            self._score(batch)
        while True:  # anything submitted after the stop marker: refuse
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is not None:
                item.future.set_exception(ShuttingDown("the server is shutting down"))

    def _score(self, batch: list[_Item]) -> None:
        batch = [item for item in batch if item.future.set_running_or_notify_cancel()]  # client gone: skip
        if not batch:
            return
        try:
            results = self.scorer.score([item.request for item in batch])
        except Exception as e:  # handed to the waiting requests; the worker goes on
            log.exception("scoring a batch of %d sequences failed", len(batch))
            for item in batch:
                item.future.set_exception(e)
            return
        self.batches += 1
        for item, result in zip(batch, results):
            item.future.set_result(result)
