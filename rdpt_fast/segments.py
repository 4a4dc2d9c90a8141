"""The result type of segmentation: a partition of a text into sentence spans."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

#: Kind codes stored in `Segments.kinds`; `KIND_NAMES[code]` is the name.
TEXT, MARKER, CODE = 0, 1, 2
KIND_NAMES: tuple[str, ...] = ("text", "marker", "code")


class Segment(NamedTuple):
    """One span `[start, end)` in code points, with its kind name."""

    start: int
    end: int
    kind: str


@dataclass(frozen=True, eq=False)
class Segments:
    """Spans of one text: `starts`, `ends` (int64, Unicode code points, `[start, end)`) and `kinds`
    (uint8 codes, see `KIND_NAMES`). For a segmentation the spans partition the text in order."""

    starts: np.ndarray
    ends: np.ndarray
    kinds: np.ndarray

    @classmethod
    def from_lists(cls, starts: list[int], ends: list[int], kinds: list[int]) -> Segments:
        return cls(
            np.asarray(starts, dtype=np.int64),
            np.asarray(ends, dtype=np.int64),
            np.asarray(kinds, dtype=np.uint8),
        )

    def __len__(self) -> int:
        return int(self.starts.shape[0])

    def __iter__(self) -> Iterator[Segment]:
        for s, e, k in zip(self.starts.tolist(), self.ends.tolist(), self.kinds.tolist()):
            yield Segment(s, e, KIND_NAMES[k])

    def __getitem__(self, i: int) -> Segment:
        return Segment(int(self.starts[i]), int(self.ends[i]), KIND_NAMES[int(self.kinds[i])])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Segments):
            return NotImplemented
        return (
            np.array_equal(self.starts, other.starts)
            and np.array_equal(self.ends, other.ends)
            and np.array_equal(self.kinds, other.kinds)
        )

    def __repr__(self) -> str:
        return f"Segments({list(self)!r})"

    @property
    def kind_names(self) -> list[str]:
        """The kind of each segment as a name ("text", "marker" or "code")."""
        return [KIND_NAMES[k] for k in self.kinds.tolist()]

    def texts(self, text: str) -> list[str]:
        """The text of each segment, sliced from `text` (the string that was segmented)."""
        return [text[s:e] for s, e in zip(self.starts.tolist(), self.ends.tolist())]

    def to_dict(self) -> dict[str, list]:
        """Plain lists, for JSON: `{"starts": [...], "ends": [...], "kinds": [names]}`."""
        return {"starts": self.starts.tolist(), "ends": self.ends.tolist(), "kinds": self.kind_names}
