"""Command-line options of the commands that run models (score, trace, select), derived from the configs.

Every Scorer option is a `ScorerConfig` field and every run setting a `RunConfig` field: the flags below
take their defaults (and choices, from the fields' Literal types) from those dataclasses, and
`scorer_config` / `run_config` build the configs back from the parsed arguments.
"""

from __future__ import annotations

import argparse
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any, get_args

from rdpt_fast.engine.config import RunConfig
from rdpt_fast.scoring.config import HeadBackend, Mode, ScorerConfig


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


def beta_arg(value: str) -> float | str:
    """--beta: a number in [0, 1] or 'auto'."""
    if value == "auto":
        return value
    try:
        return float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1] or 'auto', got {value!r}") from None


@dataclass(frozen=True)
class Flag:
    """The flag(s) of one config field; `kwargs` go to `add_argument` (the default is the field's)."""

    name: str
    flags: tuple[str, ...]
    help: str
    kwargs: dict[str, Any] = field(default_factory=dict)


SCORER_FLAGS = (
    Flag("dtype", ("--dtype",), "auto, float32, bfloat16, float16"),
    Flag(
        "template",
        ("--template",),
        "'auto' (the tokenizer's chat template, else raw), 'none' (raw prompt + response), a Jinja chat "
        "template file, or an inline Jinja template",
        {"type": template_arg},
    ),
    Flag("attn_implementation", ("--attn-implementation",), "auto, sdpa, eager, flash_attention_2"),
    Flag(
        "max_tokens_per_batch",
        ("--max-batch-tokens", "--max-tokens"),
        "token budget of one forward pass (rows x padded length; not a generation length)",
        {"type": int, "metavar": "N"},
    ),
    Flag(
        "head_backend",
        ("--head-backend",),
        "LM-head implementation: fused Triton kernel, cuBLAS GEMM + epilogue, vocab-tiled torch, or the "
        "naive full-logits reference",
        {"choices": get_args(HeadBackend)},
    ),
    Flag(
        "mode",
        ("--mode",),
        "fast: batched, packed, shared prompts; reference: one record at a time, full logits",
        {"choices": get_args(Mode)},
    ),
    Flag(
        "share_prompts",
        ("--no-share",),
        "never share a prompt's KV cache across its responses (default: where the cost model says it pays)",
        {"action": "store_const", "const": False},
    ),
    Flag("pack", ("--no-pack",), "do not pack short traces into one row", {"action": "store_false"}),
    Flag("pack_width", ("--pack-width",), "tokens of a packed row", {"type": int, "metavar": "N"}),
    Flag("window", ("--window",), "records read ahead and planned together", {"type": int, "metavar": "N"}),
    Flag(
        "max_length",
        ("--max-length",),
        "reject traces longer than N tokens (prompt + response; default: the model's context)",
        {"type": int, "metavar": "N"},
    ),
    Flag(
        "trust_remote_code",
        ("--trust-remote-code",),
        "run the model repository's own Python code (transformers' trust_remote_code)",
        {"action": "store_true"},
    ),
    Flag(
        "self_check",
        ("--no-self-check",),
        "skip the load-time check of the fast paths against the model's own forward",
        {"action": "store_false"},
    ),
)

RUN_FLAGS = (
    Flag(
        "chunk_records",
        ("--chunk-records", "--shard-records"),
        "records per output shard",
        {"type": int, "metavar": "N"},
    ),
    Flag("id_field", ("--id-field",), "record field of the id", {"metavar": "FIELD"}),
    Flag("prompt_field", ("--prompt-field",), "record field of the prompt", {"metavar": "FIELD"}),
    Flag("response_field", ("--response-field",), "record field of the response", {"metavar": "FIELD"}),
    Flag("limit", ("--limit",), "read at most N valid records", {"type": int, "metavar": "N"}),
    Flag(
        "generate_ids",
        ("--generate-ids",),
        "give a record without an id its location (file:line) as id",
        {"action": "store_true"},
    ),
    Flag("text", ("--text",), "store each sentence's text in sentences/", {"action": "store_true"}),
    Flag("overwrite", ("--overwrite",), "start over instead of resuming", {"action": "store_true"}),
    Flag("quiet", ("--quiet", "-q"), "no progress output (for logs)", {"action": "store_true"}),
    Flag(
        "devices",
        ("--device",),
        "auto, cpu, cuda, cuda:N; several (cuda:0,cuda:1) run one model per device in parallel",
    ),
    Flag(
        "executor",
        ("--executor",),
        "local: this process; ray: a Ray cluster, with Ray Data (rdpt-fast[distributed], docs/scaling.md)",
        {"choices": ("local", "ray")},
    ),
    Flag(
        "ray_address",
        ("--ray-address",),
        "the cluster to join (auto, host:6379, ray://host:10001); default RAY_ADDRESS, else a local Ray",
        {"metavar": "ADDR"},
    ),
    Flag(
        "num_workers",
        ("--num-workers",),
        "Scorer actors (default: one per GPU of the cluster; without GPUs, one per CPU but one)",
        {"type": int, "metavar": "N"},
    ),
    Flag(
        "gpus_per_worker",
        ("--gpus-per-worker",),
        "GPUs per actor (default 1, or 0 without GPUs); above 1 the model is spread over them",
        {"type": float, "metavar": "G"},
    ),
)

LABEL_FLAGS = (
    Flag("alpha", ("--alpha",), "Shared threshold on |d_SD|, |d_TD|, |d_TS|", {"type": float}),
    Flag("beta", ("--beta",), "threshold on d_TS, or 'auto' (adaptive)", {"type": beta_arg}),
    Flag(
        "include_markers",
        ("--include-markers",),
        "count marker sentences in label statistics",
        {"action": "store_true"},
    ),
)


def _default(config_type: type, name: str) -> Any:
    spec = next(f for f in fields(config_type) if f.name == name)
    if spec.default is not MISSING:
        return spec.default
    return spec.default_factory()  # type: ignore[misc]


def _add(p: argparse.ArgumentParser, flag: Flag, config_type: type) -> None:
    default = _default(config_type, flag.name)
    if flag.name == "devices":
        default = ",".join(default)
    shown = flag.kwargs.get("action") not in ("store_true", "store_false", "store_const")
    text = f"{flag.help} (default: {default})" if shown and default is not None else flag.help
    p.add_argument(*flag.flags, dest=flag.name, default=default, help=text, **flag.kwargs)


def add_scorer_options(p: argparse.ArgumentParser) -> None:
    """A flag per `SCORER_FLAGS` entry, default from `ScorerConfig`."""
    for flag in SCORER_FLAGS:
        _add(p, flag, ScorerConfig)


def add_run_options(p: argparse.ArgumentParser, *, labels: tuple[str, ...] = ()) -> None:
    """--input, --output, the run's flags (`RUN_FLAGS`), the label flags named in `labels` and the Scorer
    flags; defaults from `RunConfig` and `ScorerConfig`."""
    p.add_argument(
        "--input", nargs="+", required=True, metavar="FILE", help="JSONL, JSONL.gz, Parquet or globs"
    )
    p.add_argument(
        "--output", "-o", required=True, metavar="DIR", help="output folder (resumed when it exists)"
    )
    for flag in (*RUN_FLAGS, *(f for f in LABEL_FLAGS if f.name in labels)):
        _add(p, flag, RunConfig)
    add_scorer_options(p)


def add_precomputed_options(p: argparse.ArgumentParser) -> None:
    """--teacher-logprobs and --token-ids-field (trace and select)."""
    p.add_argument(
        "--teacher-logprobs",
        metavar="FIELD",
        help="take the teacher's scores from this record field (with --token-ids-field) instead of running "
        "it; --teacher is then the teacher's tokenizer directory",
    )
    p.add_argument(
        "--token-ids-field", default="token_ids", help="field of the response token ids (default: token_ids)"
    )


def scorer_config(args: argparse.Namespace) -> ScorerConfig:
    """The `ScorerConfig` of parsed `add_scorer_options` flags."""
    return ScorerConfig(**{flag.name: getattr(args, flag.name) for flag in SCORER_FLAGS})


def run_config(args: argparse.Namespace, command: list[str]) -> RunConfig:
    """The `RunConfig` of parsed `add_run_options` flags; `command` is recorded in run.json."""
    given = {f.name: getattr(args, f.name) for f in (*RUN_FLAGS, *LABEL_FLAGS) if hasattr(args, f.name)}
    return RunConfig(scorer=scorer_config(args), command=command, **given)
