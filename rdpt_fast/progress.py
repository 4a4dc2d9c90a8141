"""Progress of a long run on stderr: a tqdm bar on a terminal, a line every few seconds in a log."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

#: The ETA is shown once this share of the records is done: the first records carry the warm-up (model
#: load, first batches) and would make it many times too long.
ETA_AFTER = 0.1


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Progress:
    """Records done (of `total` when known), tokens/s and ETA for one pass.

    quiet: print nothing. On a terminal (or with tty=True) a tqdm bar; otherwise
    (tty=False: e.g. several passes printing at once, or a log file) a line every `log_every` seconds.
    """

    def __init__(
        self,
        label: str,
        total: int | None = None,
        *,
        quiet: bool = False,
        stream: TextIO | None = None,
        log_every: float = 10.0,
        tty: bool | None = None,
    ):
        self.label = label
        self.total = total
        self.quiet = quiet
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)()) if tty is None else tty
        self.every = log_every
        self.t0 = time.perf_counter()
        self.last = 0.0
        self.records = 0
        self.tokens = 0
        self.bar: Any = None
        if self.tty and not quiet:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=label, unit="rec", file=self.stream, dynamic_ncols=True)

    def update(self, records: int = 0, tokens: int = 0) -> None:
        """Add `records` finished records and `tokens` scored tokens."""
        self.records += records
        self.tokens += tokens
        now = time.perf_counter() - self.t0
        if self.bar is not None:
            self.bar.update(records)
            if tokens:
                self.bar.set_postfix_str(
                    f"{self.tokens / now if now > 0 else 0.0:,.0f} tokens/s", refresh=False
                )
        elif not self.quiet and now - self.last >= self.every:
            self.last = now
            print(self.line(now), file=self.stream, flush=True)

    def line(self, elapsed: float) -> str:
        rate = self.tokens / elapsed if elapsed > 0 else 0.0
        parts = [self.label]
        if self.total:
            frac = min(self.records / self.total, 1.0)
            bar = "#" * int(frac * 20)
            parts.append(f"[{bar:<20}] {100 * frac:3.0f}% {self.records:,}/{self.total:,} records")
        else:
            parts.append(f"{self.records:,} records")
        if self.tokens:
            parts.append(f"{rate:,.0f} tokens/s")
        if self.total and self.records < self.total and self.records >= ETA_AFTER * self.total:
            parts.append(f"ETA {_duration(elapsed * (self.total - self.records) / self.records)}")
        parts.append(f"elapsed {_duration(elapsed)}")
        return " | ".join(parts)

    def close(self) -> float:
        """Close the bar, or print the final line; returns the seconds the pass took."""
        elapsed = time.perf_counter() - self.t0
        if self.bar is not None:
            self.bar.close()
            return elapsed
        if not self.quiet:
            self.total = self.records if self.total is not None else None  # the records actually scored
            print(self.line(elapsed), file=self.stream, flush=True)
        return elapsed
