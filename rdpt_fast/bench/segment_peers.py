"""The segmenters the segmentation benchmark races: rdpt-fast and its peers, each skipped when it is
not installed (the peers come with the `bench` extra; none downloads anything).

Every entry has `run(texts)`, the call that is timed (each returns sentence offsets, as rdpt-fast
does), `starts(text)`, the code-point start of every sentence (for the boundary counts), and a
`tier` naming the sample it is timed on ("fast": the large sample; "slow", "slowest": smaller ones).
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from rdpt_fast.segmentation import segment, segment_batch


@dataclass(frozen=True)
class Entry:
    """One segmenter in the race."""

    name: str
    run: Callable[[list[str]], Any]
    starts: Callable[[str], list[int]]
    tier: str = "fast"


class BlingfireC:
    """blingfire's sentence breaker through its C entry point `TextToSentencesWithOffsets` (ctypes),
    with output buffers reused across calls: the breaker's own cost, offsets in UTF-8 bytes, without
    the Python-level byte-to-character loop of `text_to_sentences_and_offsets`."""

    def __init__(self, library: ctypes.CDLL) -> None:
        self.fn = library.TextToSentencesWithOffsets
        self.fn.restype = ctypes.c_int
        self.capacity = 0
        self.out: Any = None
        self.begins: Any = None
        self.ends: Any = None

    def _reserve(self, size: int) -> None:
        if size > self.capacity:
            self.capacity = max(size, 2 * self.capacity)
            self.out = ctypes.create_string_buffer(self.capacity)
            self.begins = (ctypes.c_int32 * self.capacity)()
            self.ends = (ctypes.c_int32 * self.capacity)()

    def __call__(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Byte offsets `(begins, ends)` of the sentences of `text`."""
        data = text.encode("utf-8")
        self._reserve(2 * len(data) + 1)  # blingfire's own wrapper sizes the output so
        n = self.fn(data, len(data), self.out, self.begins, self.ends, self.capacity)
        if n < 0 or n > self.capacity:
            raise RuntimeError(f"blingfire TextToSentencesWithOffsets failed on a text of {len(data)} bytes")
        count = ctypes.string_at(self.out, n).count(b"\n") + 1 if n else 0
        return (
            np.frombuffer(self.begins, dtype=np.int32, count=count),
            np.frombuffer(self.ends, dtype=np.int32, count=count),
        )


def ours(threads: int) -> list[Entry]:
    def starts(rules: str) -> Callable[[str], list[int]]:
        return lambda t: segment(t, rules=rules).starts.tolist()

    return [
        Entry(
            "rdpt-fast C++ v2 (1 thread)", lambda ts: segment_batch(ts, num_threads=1), starts("reasoning-v2")
        ),
        Entry(
            f"rdpt-fast C++ v2 ({threads} threads)",
            lambda ts: segment_batch(ts, num_threads=threads),
            starts("reasoning-v2"),
        ),
        Entry(
            "rdpt-fast C++ v1 (1 thread)",
            lambda ts: segment_batch(ts, rules="reasoning-v1", num_threads=1),
            starts("reasoning-v1"),
        ),
        Entry(
            "rdpt-fast reference v2 (Python)",
            lambda ts: segment_batch(ts, backend="reference"),
            starts("reasoning-v2"),
            "slow",
        ),
    ]


def peers() -> list[Entry]:
    """The installed peers, in a fixed order."""
    entries: list[Entry] = []
    try:
        import blingfire
    except ImportError:
        pass
    else:
        c_call = BlingfireC(blingfire.blingfire)

        def bling_starts(t: str) -> list[int]:
            return [b for b, _ in blingfire.text_to_sentences_and_offsets(t)[1]]

        entries.append(
            Entry("blingfire C call (ctypes, byte offsets)", lambda ts: [c_call(t) for t in ts], bling_starts)
        )
        entries.append(
            Entry(
                "blingfire text_to_sentences_and_offsets",
                lambda ts: [blingfire.text_to_sentences_and_offsets(t) for t in ts],
                bling_starts,
                "slow",
            )
        )
    try:
        import sentencex
    except ImportError:
        pass
    else:

        def sentencex_run(t: str) -> list[dict[str, Any]]:
            return sentencex.get_sentence_boundaries("en", t)

        entries.append(
            Entry(
                "sentencex get_sentence_boundaries",
                lambda ts: [sentencex_run(t) for t in ts],
                lambda t: [d["start_index"] for d in sentencex_run(t)],
                "slow",
            )
        )
    try:
        import nupunkt
    except ImportError:
        pass
    else:
        entries.append(
            Entry(
                "nupunkt sent_spans",
                lambda ts: [nupunkt.sent_spans(t) for t in ts],
                lambda t: [s for s, _ in nupunkt.sent_spans(t)],
                "slow",
            )
        )
    try:
        import spacy
    except ImportError:
        pass
    else:
        nlp = spacy.blank("en")
        nlp.add_pipe("sentencizer")
        nlp.max_length = 10**9  # rule-based: no model, no memory per character beyond the tokens

        def spacy_starts(t: str) -> list[int]:
            return [s.start_char for s in nlp(t).sents]

        entries.append(
            Entry(
                "spaCy sentencizer (blank en)",
                lambda ts: [spacy_starts(t) for t in ts],
                spacy_starts,
                "slowest",
            )
        )
    try:
        import pysbd
    except ImportError:
        pass
    else:
        seg = pysbd.Segmenter(language="en", clean=False, char_span=True)
        entries.append(
            Entry(
                "pysbd (char_span)",
                lambda ts: [seg.segment(t) for t in ts],
                lambda t: [s.start for s in seg.segment(t)],
                "slowest",
            )
        )
    return entries
