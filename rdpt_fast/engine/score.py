"""`score`: one model over a corpus -> per-sentence scores, as a one-role run of the engine."""

from __future__ import annotations

from collections.abc import Sequence
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rdpt_fast.engine.config import RunConfig
from rdpt_fast.engine.result import RunResult
from rdpt_fast.engine.run import Run
from rdpt_fast.engine.schemes import SCORE
from rdpt_fast.engine.sources import ModelSource

if TYPE_CHECKING:
    from rdpt_fast.scoring.scorer import Scorer


def score(
    model: str | PathLike[str] | Scorer,
    inputs: str | PathLike[str] | Sequence[str | PathLike[str]],
    output: str | PathLike[str],
    *,
    name: str | None = None,
    config: RunConfig | None = None,
    **overrides: Any,
) -> RunResult:
    """Score every sentence of every record of `inputs` under `model` and write the run folder `output`
    (docs/outputs.md): `sentences/` with one row per (record, sentence) (id, sentence, start, end, kind,
    text, sum_logprob, num_tokens, prob, model), `scores/model/`, `segments/`, `rejects.jsonl`, `run.json`.

    model: a model directory or hub id, or a ready `Scorer`. name: the model's name in the outputs
    (default: the model folder's name). config / overrides: a `RunConfig` and `RunConfig` fields or
    `ScorerConfig` options that override it (e.g. `template=None, devices="cpu"`).
    A rerun with the same arguments resumes; another model, other scoring settings or another kind of run
    in the same folder is refused.
    """
    if isinstance(inputs, (str, PathLike)):
        inputs = [inputs]
    source = ModelSource(Path(model) if isinstance(model, PathLike) else model, name=name)
    with Run(SCORE, {"model": source}, list(inputs), output, RunConfig.build(config, **overrides)) as run:
        return run.execute()
