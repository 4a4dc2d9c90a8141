"""Parsing and checking OpenAI `/v1/completions` requests; errors as OpenAI-style JSON bodies.

Every user mistake becomes an `APIError` (an HTTP 4xx status and a message naming what is wrong);
nothing here raises anything else on input.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

#: Most top log-probs a request may ask for per position (OpenAI allows 5, vLLM 20 by default).
DEFAULT_MAX_LOGPROBS = 20


class APIError(Exception):
    """An error answered as `{"error": {"message", "type", "param", "code"}}` with HTTP `status`."""

    def __init__(self, status: int, message: str, *, param: str | None = None, code: str | None = None):
        super().__init__(message)
        self.status, self.message, self.param, self.code = status, message, param, code

    @property
    def body(self) -> dict[str, Any]:
        kind = {401: "authentication_error", 404: "not_found_error"}.get(self.status, "invalid_request_error")
        if self.status >= 500:
            kind = "server_error"
        return {"error": {"message": self.message, "type": kind, "param": self.param, "code": self.code}}


class CompletionRequest(BaseModel):
    """The fields of an OpenAI completions request this server reads (others, e.g. seed, are ignored:
    scoring is deterministic). `prompt` is checked by `prompt_list`. `add_special_tokens` (vLLM's
    extension) applies to string prompts."""

    model_config = ConfigDict(extra="ignore", strict=True)

    model: str
    prompt: Any
    echo: bool = False
    logprobs: int | None = Field(default=None, ge=0)
    max_tokens: int | None = None
    temperature: float | int | None = None
    n: int = 1
    stream: bool = False
    suffix: str | None = None
    add_special_tokens: bool = True


class TokenizeRequest(BaseModel):
    """vLLM's `/tokenize` body (what lm-eval's remote tokenizer sends)."""

    model_config = ConfigDict(extra="ignore", strict=True)
    prompt: str
    add_special_tokens: bool = True


class DetokenizeRequest(BaseModel):
    """vLLM's `/detokenize` body."""

    model_config = ConfigDict(extra="ignore", strict=True)
    tokens: list[int]


def parse_json(body: bytes) -> Any:
    """The JSON value of a request body; 400 when it is not UTF-8 or not JSON."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise APIError(400, f"request body is not valid UTF-8 (byte {e.start})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise APIError(
            400, f"request body is not valid JSON: {e.msg} (line {e.lineno}, column {e.colno})"
        ) from None


def parse_body(body: bytes, model: type[BaseModel]) -> Any:
    """`body` validated as `model`; 400 naming the first bad field otherwise."""
    value = parse_json(body)
    if not isinstance(value, dict):
        raise APIError(400, f"request body must be a JSON object, got {type(value).__name__}")
    try:
        return model.model_validate(value)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise APIError(400, f"{where}: {first['msg']}", param=where) from None


def _is_token_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(t, int) and not isinstance(t, bool) for t in value)


def prompt_list(prompt: Any) -> list[str | list[int]]:
    """The prompts of a request: a string, a list of strings, a token-id list, or a list of token-id lists."""
    if isinstance(prompt, str):
        return [prompt]
    if _is_token_list(prompt) and prompt:
        return [prompt]
    if (isinstance(prompt, list) and prompt) and (
        all(isinstance(p, str) for p in prompt) or all(_is_token_list(p) for p in prompt)
    ):
        return list(prompt)
    raise APIError(
        400,
        "prompt must be a string, a list of strings, a list of token ids, or a list of token-id lists "
        "(non-empty)",
        param="prompt",
    )


def check_options(req: CompletionRequest, served_name: str, max_logprobs: int) -> None:
    """Options this scoring server supports; 4xx naming the first one that is not."""
    if req.model != served_name:
        raise APIError(
            404,
            f"The model `{req.model}` does not exist (this server serves `{served_name}`)",
            param="model",
            code="model_not_found",
        )
    if req.max_tokens is None or req.max_tokens not in (0, 1):
        raise APIError(
            400,
            f"max_tokens must be 0 (score only) or 1 (one greedy token): this is a scoring "
            f"server; got {req.max_tokens}",
            param="max_tokens",
        )
    if req.max_tokens == 1 and req.temperature not in (None, 0):
        raise APIError(
            400,
            f"temperature must be 0: the one completion token is greedy; got {req.temperature}",
            param="temperature",
        )
    if req.logprobs is not None and req.logprobs > max_logprobs:
        raise APIError(400, f"logprobs must be at most {max_logprobs}, got {req.logprobs}", param="logprobs")
    if req.n != 1:
        raise APIError(400, f"n must be 1, got {req.n}", param="n")
    if req.stream:
        raise APIError(400, "stream is not supported (responses are returned whole)", param="stream")
    if req.suffix:
        raise APIError(400, "suffix is not supported", param="suffix")
