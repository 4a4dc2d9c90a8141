"""The cost model of the planner: whether records with one prompt share its KV cache, and whether a trace
joins a batch whose rows are longer than it (padding).

Sharing K records of prompt length P and continuations r_1..r_K (padded to W = max r) forwards
P + K*W tokens instead of K*P + sum(r), but it costs one more forward call and a copy of the prompt's
cache per member (the continuation concatenates the expanded prompt cache in every layer). In seconds:

    unshared = trunk(K*P + sum r)
    shared   = trunk(P + K*W) + K * P * cache_bytes_per_token * 2 / bandwidth + call_seconds

with trunk(n) = n * 2 * trunk_parameters / flops (the head is the same either way: it only sees
response tokens). The machine is described by three numbers per device class (`MACHINES`), the model
by its trunk size and cache bytes per token (`ForwardCosts.for_model`). A trunk-heavy model shares
almost any prompt; a tiny trunk under a large head shares only long prompts, so sharing is never
the slower plan by this model's account.

Padding: a row padded by n tokens costs trunk(n); joining the batch saves one forward call. On a GPU a
call costs as much as thousands of a small model's tokens, so rows of unequal length batch; on a CPU
one token of a 0.5B trunk costs more than a call, so a trace runs alone rather than padded.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

#: device type -> (FLOP/s of the trunk's matmuls, memory bandwidth B/s, seconds of one extra forward call).
#: Orders of magnitude, not measurements: a 2-core CPU in float32, one H100/H200 in bf16 (a Python-level
#: forward of a few dozen layers costs milliseconds of launches either way).
MACHINES: dict[str, tuple[float, float, float]] = {
    "cpu": (5e10, 1e10, 2e-3),
    "cuda": (3e14, 2e12, 8e-3),
}


@dataclass(frozen=True)
class ForwardCosts:
    """Seconds per trunk token, per byte copied, and per extra forward call; cache bytes per token."""

    seconds_per_token: float
    seconds_per_byte: float
    call_seconds: float
    cache_bytes_per_token: float

    @classmethod
    def for_model(
        cls, model: torch.nn.Module, base: torch.nn.Module, device_type: str | None = None
    ) -> ForwardCosts:
        """Costs of `model` (its trunk `base`) on `device_type` (default: where its parameters live)."""
        device_type = device_type or next(base.parameters()).device.type
        flops, bandwidth, call = MACHINES.get(device_type, MACHINES["cuda"])
        embedding = model.get_input_embeddings()
        embedding_ids = {id(p) for p in embedding.parameters()} if embedding is not None else set()
        trunk = sum(p.numel() for p in base.parameters() if id(p) not in embedding_ids)
        config = model.config
        layers = getattr(config, "num_hidden_layers", 1) or 1
        heads = getattr(config, "num_attention_heads", 1) or 1
        kv_heads = getattr(config, "num_key_value_heads", None) or heads
        try:
            head_dim = getattr(config, "head_dim", None)
        except Exception:  # a config with per-layer head sizes refuses a global read: estimate from hidden
            head_dim = None
        head_dim = head_dim or getattr(config, "hidden_size", 64) // heads
        element = next(base.parameters()).element_size()
        return cls(
            seconds_per_token=2.0 * trunk / flops,
            seconds_per_byte=2.0 / bandwidth,  # read and write
            call_seconds=call,
            cache_bytes_per_token=2.0 * layers * kv_heads * head_dim * element,
        )

    def padding_pays(self, padding_tokens: int) -> bool:
        """True when a row padded by `padding_tokens` costs no more than the forward call it saves."""
        return padding_tokens * self.seconds_per_token <= self.call_seconds

    def copy_seconds(self, prompt_tokens: int) -> float:
        """Seconds to give one more member its copy of a prompt cache of `prompt_tokens` tokens."""
        return prompt_tokens * self.cache_bytes_per_token * self.seconds_per_byte

    def member_gain(self, prompt_tokens: int, tail: int, width: int) -> float:
        """Seconds saved by running a member's continuation of `tail` tokens in a shared chunk whose rows are
        `width` long, rather than its whole trace on its own (negative: it should not join)."""
        saved = (prompt_tokens + tail - width) * self.seconds_per_token
        return saved - self.copy_seconds(prompt_tokens)

    def chunk_gain(self, prompt_tokens: int, tails: list[int]) -> float:
        """Seconds saved by sharing one prompt across continuations `tails`: every member's gain, less the
        prompt's own forward and the extra call."""
        width = max(tails)
        members = sum(self.member_gain(prompt_tokens, t, width) for t in tails)
        return members - prompt_tokens * self.seconds_per_token - self.call_seconds
