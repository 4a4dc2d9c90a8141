"""Fused LM-head scoring: per-token and per-segment target log-probs without [N, V] logits."""

from rdpt_fast.head.api import BACKENDS, resolve_backend, segment_logprobs, token_logprobs
from rdpt_fast.head.torch_chunked import DEFAULT_CHUNK_BYTES
from rdpt_fast.head.types import SegmentScores, TokenStats

__all__ = [
    "BACKENDS",
    "DEFAULT_CHUNK_BYTES",
    "SegmentScores",
    "TokenStats",
    "resolve_backend",
    "segment_logprobs",
    "token_logprobs",
]
