"""The driver's side of a Ray pass: results by chunk, each record once, each chunk handed out once."""

from __future__ import annotations

from rdpt_fast.distributed.units import Scored


class ChunkCollector:
    """Gathers the results of units that come back in any order, and possibly more than once (a retried
    task or read), and hands out every chunk once, when all its records are in, in input order."""

    def __init__(self) -> None:
        self.units: set[int] = set()
        self.pending: dict[int, dict[int, Scored]] = {}
        self.sizes: dict[int, int] = {}
        self.done: set[int] = set()

    def add(self, unit: int, results: list[Scored]) -> list[tuple[int, list[Scored]]] | None:
        """Take unit `unit`'s results; returns the chunks they complete ([] when none), or None when the
        unit was already taken (then it is ignored)."""
        if unit in self.units:
            return None
        self.units.add(unit)
        touched = set()
        for s in results:
            self.pending.setdefault(s.chunk, {})[s.position] = s
            self.sizes[s.chunk] = s.chunk_size
            touched.add(s.chunk)
        complete = []
        for chunk in sorted(touched):
            if len(self.pending[chunk]) == self.sizes[chunk]:
                rows = self.pending.pop(chunk)
                self.done.add(chunk)
                complete.append((chunk, [rows[p] for p in sorted(rows)]))
        return complete

    def check_finished(self) -> None:
        """RuntimeError naming the chunks still missing records (a pass that ended early)."""
        if self.pending:
            missing = {c: self.sizes[c] - len(rows) for c, rows in sorted(self.pending.items())}
            raise RuntimeError(f"a Ray pass ended with chunks incomplete (chunk: missing records): {missing}")
