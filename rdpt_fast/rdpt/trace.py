"""`trace`: label every sentence of distilled-model outputs Shared / Teacher / Student / Boosted."""

from __future__ import annotations

from collections.abc import Sequence
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from rdpt_fast.engine.config import RunConfig
from rdpt_fast.engine.result import RunResult
from rdpt_fast.engine.run import Run
from rdpt_fast.engine.schemes import TRACE
from rdpt_fast.engine.sources import ModelSource

if TYPE_CHECKING:
    from rdpt_fast.scoring.scorer import Scorer

Model: TypeAlias = "str | PathLike[str] | Scorer"  # a model directory or hub id, or a ready Scorer
Inputs: TypeAlias = "str | PathLike[str] | Sequence[str | PathLike[str]]"  # files or globs


def teacher_source(teacher: Model, teacher_logprobs: str | None, token_ids_field: str) -> ModelSource:
    """The teacher as a model, or (with `teacher_logprobs`) as precomputed log-probs whose tokenizer is
    loaded from `teacher`."""
    if teacher_logprobs is None:
        return model_source(teacher)
    if not isinstance(teacher, (str, PathLike)):
        raise ValueError("with teacher_logprobs, teacher must be the path of the teacher's tokenizer")
    return ModelSource(
        None, tokenizer=Path(teacher), logprobs_field=teacher_logprobs, token_ids_field=token_ids_field
    )


def model_source(model: Model) -> ModelSource:
    return ModelSource(Path(model) if isinstance(model, PathLike) else model)


def input_list(inputs: Inputs) -> list[str | PathLike]:
    return [inputs] if isinstance(inputs, (str, PathLike)) else list(inputs)


def trace(
    teacher: Model,
    student: Model,
    distilled: Model,
    inputs: Inputs,
    output: str | PathLike,
    *,
    teacher_logprobs: str | None = None,
    token_ids_field: str = "token_ids",
    config: RunConfig | None = None,
    **overrides: Any,
) -> RunResult:
    """Score every sentence of every response in `inputs` under the teacher, the student and the distilled
    model, label it (DESIGN.md rules, `rdpt_fast.classify`) and write the output folder (docs/outputs.md).

    teacher / student / distilled: model directories or hub ids, or ready `Scorer`s.
    inputs: JSONL, JSONL.gz or Parquet files, or globs; records {id, prompt, response, ...}.
    teacher_logprobs: take the teacher's scores from this record field (with `token_ids_field`) instead
        of running the teacher; `teacher` is then its tokenizer's directory.
    config / overrides: a `RunConfig`, and `RunConfig` fields (alpha, beta — a number or "auto" —,
        devices, chunk_records, text, include_markers, overwrite, quiet, executor, ...) or `ScorerConfig`
        options (dtype, template, max_tokens_per_batch, ...) that override it.
    A rerun with the same arguments resumes; the result covers the whole folder.
    """
    sources = {
        "teacher": teacher_source(teacher, teacher_logprobs, token_ids_field),
        "student": model_source(student),
        "distilled": model_source(distilled),
    }
    run_config = RunConfig.build(config, **overrides)
    with Run(TRACE, sources, input_list(inputs), output, run_config) as run:
        return run.execute()
