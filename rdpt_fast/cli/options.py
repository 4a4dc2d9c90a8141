"""Command-line options shared by the commands that run models (score, trace, select)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def template_arg(value: str) -> str | None:
    """--template: 'auto', 'none', an inline Jinja template or a template file."""
    if value == "auto":
        return "auto"
    if value.lower() == "none":
        return None
    if "{{" in value or "{%" in value:
        return value  # an inline Jinja template
    path = Path(value)
    if not path.is_file():
        raise FileNotFoundError(
            f"--template {value}: not 'auto', 'none', a Jinja template or a template file"
        )
    return path.read_text(encoding="utf-8")


def add_model_options(p: argparse.ArgumentParser, *, devices: bool = False) -> None:
    """--template, --dtype, --device, --attn-implementation, --max-tokens, --mode, --head-backend,
    --trust-remote-code, --no-self-check. With `devices`, --device takes a comma-separated list (one
    model per device)."""
    p.add_argument(
        "--template",
        default="auto",
        help="'auto' (the tokenizer's chat template, else raw), 'none' (raw prompt + response), "
        "a Jinja chat template file, or an inline Jinja template",
    )
    p.add_argument("--dtype", default="auto", help="auto, float32, bfloat16, float16")
    p.add_argument(
        "--device",
        default="auto",
        help="auto, cpu, cuda, cuda:N"
        + ("; several (cuda:0,cuda:1,cuda:2) run one model per device in parallel" if devices else ""),
    )
    p.add_argument("--attn-implementation", default="auto", help="auto, sdpa, eager, flash_attention_2")
    p.add_argument("--max-tokens", type=int, default=16384, help="token budget of one forward pass")
    p.add_argument("--mode", choices=["fast", "reference"], default="fast")
    p.add_argument(  # rdpt_fast.head.BACKENDS (not imported here: the CLI starts without torch)
        "--head-backend", default="auto", choices=["auto", "triton", "cublas", "torch", "reference"]
    )
    p.add_argument("--trust-remote-code", action="store_true")
    p.add_argument(
        "--no-self-check",
        action="store_true",
        help="skip the load-time check of the fast paths against the model's own forward",
    )


def model_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """Scorer keyword arguments from `add_model_options` (device excluded)."""
    return {
        "dtype": args.dtype,
        "template": template_arg(args.template),
        "attn_implementation": args.attn_implementation,
        "max_tokens_per_batch": args.max_tokens,
        "head_backend": args.head_backend,
        "mode": args.mode,
        "trust_remote_code": args.trust_remote_code,
        "self_check": not args.no_self_check,
    }


def add_executor_options(p: argparse.ArgumentParser) -> None:
    """--executor, --ray-address, --num-workers, --gpus-per-worker (docs/scaling.md)."""
    p.add_argument(
        "--executor",
        choices=["local", "ray"],
        default="local",
        help="local: this process (default); ray: a Ray cluster, with Ray Data (rdpt-fast[distributed])",
    )
    p.add_argument(
        "--ray-address",
        metavar="ADDR",
        help="the cluster to join (auto, host:6379, ray://host:10001); default RAY_ADDRESS, else a local Ray",
    )
    p.add_argument(
        "--num-workers",
        type=int,
        metavar="N",
        help="Scorer actors (default: one per GPU of the cluster; without GPUs, one per CPU but one)",
    )
    p.add_argument(
        "--gpus-per-worker",
        type=float,
        metavar="G",
        help="GPUs per actor (default 1, or 0 without GPUs); above 1 the model is spread over them",
    )


def executor_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """Keyword arguments of `add_executor_options`; ValueError for Ray settings without --executor ray."""
    ray_only = {"--ray-address": args.ray_address, "--num-workers": args.num_workers}
    ray_only["--gpus-per-worker"] = args.gpus_per_worker
    given = [flag for flag, value in ray_only.items() if value is not None]
    if args.executor != "ray" and given:
        raise ValueError(f"{', '.join(given)}: only with --executor ray")
    return {
        "executor": args.executor,
        "ray_address": args.ray_address,
        "num_workers": args.num_workers,
        "gpus_per_worker": args.gpus_per_worker,
    }


def add_run_options(p: argparse.ArgumentParser) -> None:
    """Options of trace and select runs: input, output, resume, progress, models, executor."""
    p.add_argument(
        "--input", nargs="+", required=True, metavar="FILE", help="JSONL, JSONL.gz, Parquet or globs"
    )
    p.add_argument(
        "--output", "-o", required=True, metavar="DIR", help="output folder (resumed when it exists)"
    )
    p.add_argument("--chunk-records", type=int, default=1000, help="records per output shard")
    p.add_argument("--text", action="store_true", help="store each sentence's text in sentences/")
    p.add_argument(
        "--include-markers", action="store_true", help="count marker sentences in label statistics"
    )
    p.add_argument("--overwrite", action="store_true", help="start over instead of resuming")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bars (for logs)")
    p.add_argument(
        "--teacher-logprobs",
        metavar="FIELD",
        help="take the teacher's scores from this record field (with --token-ids-field) instead of running "
        "it; --teacher is then the teacher's tokenizer directory",
    )
    p.add_argument("--token-ids-field", default="token_ids", help="field of the response token ids")
    add_model_options(p, devices=True)
    add_executor_options(p)


def run_kwargs(args: argparse.Namespace, argv_command: list[str]) -> dict[str, Any]:
    """`trace` / `select` keyword arguments from `add_run_options`."""
    return {
        **model_kwargs(args),
        "devices": args.device,
        "chunk_records": args.chunk_records,
        "text": args.text,
        "include_markers": args.include_markers,
        "overwrite": args.overwrite,
        "quiet": args.quiet,
        "teacher_logprobs": args.teacher_logprobs,
        "token_ids_field": args.token_ids_field,
        "command": argv_command,
        **executor_kwargs(args),
    }


def beta_arg(value: str) -> float | str:
    """--beta: a number in [0, 1] or 'auto'."""
    if value == "auto":
        return value
    try:
        return float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1] or 'auto', got {value!r}") from None
