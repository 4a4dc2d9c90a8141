"""From an input record to the token-level inputs of one forward pass.

For one tokenizer: render the context, tokenize `context + response` once with offsets, segment the
response (or take the record's `segments`), and assign every token to its sentence with `assign_tokens`
(segments shifted into the full string's coordinates; context tokens get -1).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from rdpt_fast.scoring.templates import PromptRenderer, TemplateError
from rdpt_fast.segmentation import assign_tokens, segment
from rdpt_fast.segments import KIND_NAMES, Segments

KNOWN_FIELDS = ("id", "prompt", "response", "segments", "token_ids", "logprobs", "logprobs_model")


class RecordProblem(ValueError):
    """A record that cannot be scored; the message names the field and the reason."""


@dataclass
class Prepared:
    """One record ready for the model.

    index: position in the input stream. input_ids [L] int64 and segment_ids [L] int64 (-1: not scored) over
    `context + response`. num_prefix: leading tokens with no sentence (the rendered prompt); tokens
    [0, num_prefix) are what records with one prompt share. segments: spans in response coordinates.
    """

    index: int
    record_id: str
    fields: dict[str, Any]
    response: str
    segments: Segments
    input_ids: np.ndarray
    segment_ids: np.ndarray
    num_prefix: int

    @property
    def length(self) -> int:
        return int(self.input_ids.shape[0])

    @property
    def first_scored(self) -> int:
        """Index of the first token that can be scored: the first response token, never token 0 (it has no
        context to be predicted from)."""
        return max(self.num_prefix, 1)

    @property
    def prefix_key(self) -> bytes:
        return self.input_ids[: self.num_prefix].tobytes()


def check_record(fields: Mapping[str, Any], fallback_id: str) -> tuple[str, Any, str]:
    """(id, prompt, response) of a record; RecordProblem for a missing or bad field."""
    rid = fields.get("id")
    rid = fallback_id if rid is None else str(rid)
    response = fields.get("response")
    if not isinstance(response, str):
        why = "missing" if response is None else f"must be a string, not {type(response).__name__}"
        raise RecordProblem(f"field 'response': {why}")
    if not response:
        raise RecordProblem("field 'response': empty response, nothing to score")
    try:
        response.encode("utf-8")
    except UnicodeEncodeError as e:
        raise RecordProblem(f"field 'response': unpaired surrogate at code point {e.start}") from None
    prompt = fields.get("prompt")
    if prompt is None:
        raise RecordProblem("field 'prompt': missing")
    return rid, prompt, response


def record_segments(fields: Mapping[str, Any], response: str, segment_options: Mapping[str, Any]) -> Segments:
    """The record's precomputed `segments` ({starts, ends, kinds} or Segments), checked to partition the
    response, or the response segmented with `rdpt_fast.segment(**segment_options)`."""
    given = fields.get("segments")
    if given is None:
        return segment(response, **segment_options)
    if isinstance(given, Segments):
        segs = given
    elif isinstance(given, Mapping):
        try:
            kinds = [KIND_NAMES.index(k) if isinstance(k, str) else int(k) for k in given["kinds"]]
            segs = Segments.from_lists(list(given["starts"]), list(given["ends"]), kinds)
        except (KeyError, ValueError, TypeError) as e:
            raise RecordProblem(f"field 'segments': needs starts, ends, kinds lists ({e})") from None
    else:
        raise RecordProblem(f"field 'segments': expected {{starts, ends, kinds}}, got {type(given).__name__}")
    s, e = segs.starts, segs.ends
    n = len(segs)
    if (
        n == 0
        or len(e) != n
        or len(segs.kinds) != n
        or s[0] != 0
        or e[-1] != len(response)
        or np.any(s >= e)
        or np.any(s[1:] != e[:-1])
    ):
        raise RecordProblem("field 'segments': spans must partition the response in order (code points)")
    return segs


def tokenize_with_offsets(
    tokenizer: Any, text: str, add_special_tokens: bool
) -> tuple[np.ndarray, np.ndarray]:
    """input_ids [L] int64 and offsets [L, 2] int64 (code points into `text`) from a fast tokenizer."""
    enc = tokenizer(
        text, add_special_tokens=add_special_tokens, return_offsets_mapping=True, return_attention_mask=False
    )
    ids = np.asarray(enc["input_ids"], dtype=np.int64)
    offsets = np.asarray(enc["offset_mapping"], dtype=np.int64).reshape(-1, 2)
    return ids, offsets


def prepare(
    index: int,
    fields: dict[str, Any],
    fallback_id: str,
    tokenizer: Any,
    renderer: PromptRenderer,
    segment_options: Mapping[str, Any],
    max_length: int | None,
) -> Prepared:
    """Prepared inputs of one record; RecordProblem (or TemplateError) names what is wrong."""
    rid, prompt, response = check_record(fields, fallback_id)
    segs = record_segments(fields, response, segment_options)
    context = renderer.context(prompt, response)
    text = context.text + response
    ids, offsets = tokenize_with_offsets(tokenizer, text, context.add_special_tokens)
    if max_length is not None and ids.shape[0] > max_length:
        raise RecordProblem(
            f"trace is {ids.shape[0]} tokens, longer than the limit of {max_length} tokens (the model's "
            "context or max_length)"
        )
    shift = len(context.text)
    shifted = Segments(segs.starts + shift, segs.ends + shift, segs.kinds)
    seg_ids = assign_tokens(offsets, shifted, text)
    scored = np.flatnonzero(seg_ids >= 0)
    if scored.size == 0:
        raise RecordProblem("field 'response': no token of the response could be assigned to a sentence")
    extra = {k: v for k, v in fields.items() if k not in KNOWN_FIELDS}
    return Prepared(index, rid, extra, response, segs, ids, seg_ids, int(scored[0]))


__all__ = ["Prepared", "RecordProblem", "TemplateError", "check_record", "prepare", "record_segments"]
