"""`rdpt-fast serve --model DIR`: an OpenAI-compatible scoring server (`/v1/completions` with echo and
logprobs) for lm-eval's local-completions client and other tools."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve",
        help="OpenAI-compatible scoring server (/v1/completions with echo + logprobs)",
        description="Serve a causal LM for scoring: POST /v1/completions with echo, logprobs and max_tokens "
        "0 or 1, GET /v1/models, /health, /tokenize, /detokenize, /tokenizer_info. Needs rdpt-fast[serve].",
    )
    p.add_argument("--model", required=True, help="model directory or hub id (safetensors)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    p.add_argument("--port", type=int, default=8000, help="port to listen on (default: %(default)s)")
    p.add_argument(
        "--served-model-name",
        default=None,
        help="the `model` requests name (default: --model as given, like vLLM)",
    )
    p.add_argument("--dtype", default="auto", help="auto, float32, bfloat16, float16 (default: %(default)s)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N (default: %(default)s)")
    p.add_argument(
        "--max-batch-tokens", type=int, default=4096, help="tokens per scoring batch (default: %(default)s)"
    )
    p.add_argument(
        "--batch-window-ms",
        type=float,
        default=5.0,
        help="wait this long for more requests (default: %(default)s)",
    )
    p.add_argument("--api-key", default=None, help="require `Authorization: Bearer KEY`")
    p.add_argument(
        "--mode",
        choices=("fast", "reference"),
        default="fast",
        help="fast: shared prefixes, tiled head; reference: each prompt alone through the whole model, "
        "float64 log_softmax (default: %(default)s)",
    )
    p.add_argument(
        "--max-logprobs",
        type=int,
        default=20,
        help="largest `logprobs` a request may ask (default: %(default)s)",
    )
    p.add_argument(
        "--trust-remote-code",
        action="store_true",
        help="run the model repository's own Python code (transformers' trust_remote_code)",
    )
    p.add_argument("--log-level", default="info", help="uvicorn's log level (default: %(default)s)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        from rdpt_fast.serve.app import ServeConfig
        from rdpt_fast.serve.server import run_server
    except ImportError as e:
        raise ValueError(
            f"{e.name} is missing: install the server extra, pip install 'rdpt-fast[serve]'"
        ) from e
    from rdpt_fast.scoring.sequences import SequenceScorer

    if args.max_batch_tokens < 1 or args.batch_window_ms < 0 or args.max_logprobs < 0:
        raise ValueError("--max-batch-tokens must be positive, --batch-window-ms and --max-logprobs >= 0")
    scorer = SequenceScorer.load(
        args.model,
        device=args.device,
        dtype=args.dtype,
        trust_remote_code=args.trust_remote_code,
        mode=args.mode,
        max_batch_tokens=args.max_batch_tokens,
    )
    config = ServeConfig(
        served_model_name=args.served_model_name or args.model,
        api_key=args.api_key,
        max_batch_tokens=args.max_batch_tokens,
        batch_window_s=args.batch_window_ms / 1000,
        max_logprobs=args.max_logprobs,
    )
    run_server(scorer, config, host=args.host, port=args.port, log_level=args.log_level)
    return 0
