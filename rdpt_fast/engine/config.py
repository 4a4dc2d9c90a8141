"""`RunConfig`: the settings of a `score`, `trace` or `select` run, holding the Scorer's `ScorerConfig`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal

from rdpt_fast.rdpt.labels import DEFAULT_ALPHA, DEFAULT_BETA
from rdpt_fast.scoring.config import ScorerConfig, option_names

Beta = float | Literal["auto"]  # a number in [0, 1] or "auto" (`rdpt_fast.adaptive_beta`)
ExecutorName = Literal["local", "ray"]


@dataclass(frozen=True)
class RunConfig:
    """How a run reads, scores, labels and writes.

    scorer: every model's Scorer options. alpha / beta: label thresholds (beta "auto": chosen from the
    run's d_TS). devices: one model at a time on the first, or one model per device in parallel threads.
    chunk_records: records per shard (shard k of every table holds chunk k of the valid input stream).
    id_field / prompt_field / response_field: the record fields holding the id, prompt and response.
    limit: read at most this many valid records. generate_ids: a record without an id gets its location
    ("file:line") as id.
    text: store each sentence's text. include_markers: count marker sentences in label statistics.
    overwrite: start the folder over instead of resuming. quiet: no progress output.
    command: the command line, recorded in run.json. executor: "local" (this process) or "ray" (a Ray
    cluster; ray_address, num_workers and gpus_per_worker are Ray's, see docs/scaling.md).
    """

    scorer: ScorerConfig = field(default_factory=ScorerConfig)
    alpha: float = DEFAULT_ALPHA
    beta: Beta = DEFAULT_BETA
    devices: Sequence[str] = ("auto",)
    chunk_records: int = 1000
    id_field: str = "id"
    prompt_field: str = "prompt"
    response_field: str = "response"
    limit: int | None = None
    generate_ids: bool = False
    text: bool = False
    include_markers: bool = False
    overwrite: bool = False
    quiet: bool = False
    command: Sequence[str] | None = None
    executor: ExecutorName = "local"
    ray_address: str | None = None
    num_workers: int | None = None
    gpus_per_worker: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "devices", parse_devices(self.devices))
        if not (0.0 <= self.alpha <= 1.0):
            raise ValueError(f"alpha must lie in [0, 1], got {self.alpha}")
        if self.beta != "auto" and not (
            isinstance(self.beta, (int, float))
            and not isinstance(self.beta, bool)
            and 0.0 <= self.beta <= 1.0
        ):
            raise ValueError(f"beta must be 'auto' or lie in [0, 1], got {self.beta!r}")
        if not isinstance(self.chunk_records, int) or self.chunk_records < 1:
            raise ValueError(f"chunk_records must be a positive integer, got {self.chunk_records!r}")
        if self.limit is not None and (not isinstance(self.limit, int) or self.limit < 1):
            raise ValueError(f"limit must be a positive integer, got {self.limit!r}")
        if self.executor not in ("local", "ray"):
            raise ValueError(f"executor must be 'local' or 'ray', got {self.executor!r}")
        ray_only = {"ray_address": self.ray_address, "num_workers": self.num_workers}
        ray_only["gpus_per_worker"] = self.gpus_per_worker
        given = [name for name, value in ray_only.items() if value is not None]
        if self.executor == "local" and given:
            raise ValueError(f"{', '.join(given)}: only with executor 'ray'")
        if self.executor == "ray" and list(self.devices) != ["auto"]:
            raise ValueError("devices apply to the local executor; on Ray each worker has its own GPUs")

    @classmethod
    def build(cls, config: RunConfig | None = None, **overrides: Any) -> RunConfig:
        """`config` (default: the defaults) with `overrides`: `RunConfig` fields or `ScorerConfig` options
        (those go to `scorer`). TypeError naming an unknown option."""
        base = config or cls()
        scorer_names = set(option_names())
        own = {f.name for f in fields(cls)}
        unknown = sorted(set(overrides) - scorer_names - own)
        if unknown:
            raise TypeError(f"unknown run option(s): {', '.join(unknown)}")
        scorer = ScorerConfig.build(
            overrides.pop("scorer", base.scorer),
            **{k: overrides.pop(k) for k in list(overrides) if k in scorer_names},
        )
        return replace(base, scorer=scorer, **overrides)


def parse_devices(devices: str | Sequence[str]) -> tuple[str, ...]:
    """ "auto", "cpu", "cuda:0,cuda:1" or a list of device names; ValueError when none is given."""
    items = devices.split(",") if isinstance(devices, str) else list(devices)
    items = [str(d).strip() for d in items if str(d).strip()]
    if not items:
        raise ValueError("give at least one device")
    return tuple(items)
