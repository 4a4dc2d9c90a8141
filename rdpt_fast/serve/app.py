"""The FastAPI application: `/v1/completions` (scoring), `/v1/models`, `/health`, vLLM-style `/tokenize`,
`/detokenize`, `/tokenizer_info` (what lm-eval's remote tokenizer detects), and `/stats`.

Bodies are read and checked here (not by FastAPI's validation) so that every bad request gets an
OpenAI-style JSON error with a 4xx status; an unexpected failure is a 500 JSON error and the server
goes on serving.
"""

from __future__ import annotations

import dataclasses
import functools
import hmac
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from rdpt_fast.scoring.sequences import SequenceRequest, SequenceScorer
from rdpt_fast.serve.batcher import MicroBatcher, ShuttingDown
from rdpt_fast.serve.protocol import (
    DEFAULT_MAX_LOGPROBS,
    APIError,
    CompletionRequest,
    DetokenizeRequest,
    TokenizeRequest,
    check_options,
    parse_body,
    prompt_list,
)
from rdpt_fast.serve.responses import ChoiceInput, build_choice, completion_body

log = logging.getLogger("rdpt_fast.serve")


@dataclass(frozen=True)
class ServeConfig:
    """served_model_name: the `model` requests must name. api_key: required as `Authorization: Bearer`
    on every route but /health when set. max_batch_tokens: tokens per scoring batch (a longer prompt
    is refused). batch_window_s: how long the batcher waits for more sequences."""

    served_model_name: str
    api_key: str | None = None
    max_batch_tokens: int = 4096
    batch_window_s: float = 0.005
    max_logprobs: int = DEFAULT_MAX_LOGPROBS


def _error(e: APIError) -> JSONResponse:
    return JSONResponse(e.body, status_code=e.status)


class Service:
    """What the routes do, on one scorer and one batcher."""

    def __init__(self, scorer: SequenceScorer, config: ServeConfig):
        self.scorer, self.config = scorer, config
        self.tokenizer = scorer.tokenizer
        self.batcher = MicroBatcher(
            scorer, window_s=config.batch_window_s, max_batch_tokens=config.max_batch_tokens
        )
        self.started = int(time.time())

    @functools.lru_cache(maxsize=65536)  # noqa: B019 (one Service per server, token strings are few)
    def decode_one(self, token: int) -> str:
        return self.tokenizer.decode([token])

    def check_auth(self, request: Request) -> None:
        key = self.config.api_key
        if key is None:
            return
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {key}".encode()):
            raise APIError(
                401, "missing or wrong API key (send `Authorization: Bearer KEY`)", code="invalid_api_key"
            )

    def encode(self, text: str, add_special_tokens: bool) -> list[int]:
        """Token ids of `text`; 400 when the tokenizer refuses it (e.g. lone surrogates)."""
        try:
            return self.tokenizer(text, add_special_tokens=add_special_tokens)["input_ids"]
        except (TypeError, ValueError, UnicodeError) as e:
            raise APIError(400, f"prompt cannot be tokenized: {type(e).__name__}: {str(e)[:200]}") from None

    def tokenize_prompt(
        self, prompt: str | list[int], add_special_tokens: bool, max_tokens: int
    ) -> ChoiceInput:
        """ids and text of one prompt, checked against the vocabulary, the context and the batch budget."""
        if isinstance(prompt, str):
            ids = self.encode(prompt, add_special_tokens)
            text = prompt
        else:
            ids, vocab = prompt, self.scorer.vocab_size
            bad = next((t for t in ids if not 0 <= t < vocab), None)
            if bad is not None:
                raise APIError(400, f"token id {bad} is outside the vocabulary [0, {vocab})", param="prompt")
            text = self.tokenizer.decode(ids)
        if not ids:
            raise APIError(400, "prompt has no tokens (nothing to score or continue from)", param="prompt")
        context = self.scorer.max_length
        if context is not None and len(ids) + max_tokens > context:
            raise APIError(
                400,
                f"prompt is {len(ids)} tokens; with max_tokens {max_tokens} that exceeds the "
                f"model's context of {context} tokens",
                param="prompt",
                code="context_length_exceeded",
            )
        if len(ids) > self.config.max_batch_tokens:
            raise APIError(
                400,
                f"prompt is {len(ids)} tokens, more than this server's batch budget of "
                f"{self.config.max_batch_tokens} (--max-batch-tokens)",
                param="prompt",
            )
        return ChoiceInput(list(ids), text, None)

    async def completions(self, request: Request) -> JSONResponse:
        """The completion body, serialized directly (FastAPI's generic encoder is slow on large
        `top_logprobs` lists)."""
        self.check_auth(request)
        req: CompletionRequest = parse_body(await request.body(), CompletionRequest)
        check_options(req, self.config.served_model_name, self.config.max_logprobs)
        assert req.max_tokens is not None
        prompts = [
            self.tokenize_prompt(p, req.add_special_tokens, req.max_tokens) for p in prompt_list(req.prompt)
        ]
        if req.echo or req.max_tokens:
            top_k = min(max(req.logprobs or 1, 1), self.scorer.vocab_size)
            wanted = [SequenceRequest(p.ids, top_k, req.max_tokens == 1) for p in prompts]
            try:
                scores = await self.batcher.submit(wanted)
            except ShuttingDown as e:
                raise APIError(503, str(e)) from None
            prompts = [dataclasses.replace(p, scores=s) for p, s in zip(prompts, scores)]
        choices = [
            build_choice(
                i, p, echo=req.echo, max_tokens=req.max_tokens, logprobs=req.logprobs, decode=self.decode_one
            )
            for i, p in enumerate(prompts)
        ]
        n_prompt = sum(len(p.ids) for p in prompts)
        return JSONResponse(completion_body(req.model, choices, n_prompt, req.max_tokens * len(prompts)))

    def models(self, request: Request) -> dict[str, Any]:
        self.check_auth(request)
        card = {"id": self.config.served_model_name, "object": "model", "created": self.started,
                "owned_by": "rdpt-fast", "max_model_len": self.scorer.max_length}  # fmt: skip
        return {"object": "list", "data": [card]}

    async def tokenize(self, request: Request) -> dict[str, Any]:
        self.check_auth(request)
        req: TokenizeRequest = parse_body(await request.body(), TokenizeRequest)
        ids = self.encode(req.prompt, req.add_special_tokens)
        return {"tokens": ids, "count": len(ids), "max_model_len": self.scorer.max_length}

    async def detokenize(self, request: Request) -> dict[str, Any]:
        self.check_auth(request)
        req: DetokenizeRequest = parse_body(await request.body(), DetokenizeRequest)
        vocab = self.scorer.vocab_size
        if any(not 0 <= t < vocab for t in req.tokens):
            raise APIError(400, f"token ids must be in [0, {vocab})", param="tokens")
        return {"prompt": self.tokenizer.decode(req.tokens)}

    def tokenizer_info(self, request: Request) -> dict[str, Any]:
        self.check_auth(request)
        tok = self.tokenizer
        return {
            "tokenizer_class": type(tok).__name__,
            "eos_token": tok.eos_token, "bos_token": tok.bos_token, "pad_token": tok.pad_token,
            "chat_template": getattr(tok, "chat_template", None),
            "model_max_length": self.scorer.max_length,
        }  # fmt: skip

    def stats(self, request: Request) -> dict[str, Any]:
        self.check_auth(request)
        return {**dataclasses.asdict(self.scorer.stats), "batches": self.batcher.batches}


def create_app(scorer: SequenceScorer, config: ServeConfig) -> FastAPI:
    """The application serving `scorer`; the batcher runs between startup and shutdown."""
    service = Service(scorer, config)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        service.batcher.start()
        yield
        service.batcher.close()  # in-flight requests have been answered: uvicorn waits for them first

    app = FastAPI(title="rdpt-fast serve", lifespan=lifespan)
    app.state.service = service

    @app.exception_handler(APIError)
    async def api_error(_: Request, e: APIError) -> JSONResponse:
        return _error(e)

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, e: HTTPException) -> JSONResponse:
        return _error(APIError(e.status_code, str(e.detail)))

    @app.exception_handler(Exception)
    async def unexpected(_: Request, e: Exception) -> JSONResponse:
        log.exception("request failed")
        return _error(APIError(500, f"internal error: {type(e).__name__}: {e}"))

    app.add_api_route("/v1/completions", service.completions, methods=["POST"])
    app.add_api_route("/v1/models", service.models, methods=["GET"])
    app.add_api_route("/tokenize", service.tokenize, methods=["POST"])
    app.add_api_route("/detokenize", service.detokenize, methods=["POST"])
    app.add_api_route("/tokenizer_info", service.tokenizer_info, methods=["GET"])
    app.add_api_route("/stats", service.stats, methods=["GET"])
    app.add_api_route("/health", lambda: {"status": "ok"}, methods=["GET"])
    return app
