"""`trace`: label every sentence of distilled-model outputs Shared / Teacher / Student / Boosted."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rdpt_fast.rdpt.join import TRACE
from rdpt_fast.rdpt.labels import DEFAULT_ALPHA, DEFAULT_BETA
from rdpt_fast.rdpt.run import Beta, ModelSource, Run, RunOptions, RunResult


def teacher_source(teacher: Any, teacher_logprobs: str | None, token_ids_field: str) -> ModelSource:
    """The teacher as a model, or (with `teacher_logprobs`) as precomputed log-probs whose tokenizer is
    loaded from `teacher`."""
    if teacher_logprobs is None:
        return ModelSource(teacher)
    if not isinstance(teacher, (str, Path)):
        raise ValueError("with teacher_logprobs, teacher must be the path of the teacher's tokenizer")
    return ModelSource(
        None, tokenizer=teacher, logprobs_field=teacher_logprobs, token_ids_field=token_ids_field
    )


def trace(
    teacher: Any,
    student: Any,
    distilled: Any,
    inputs: str | Path | Sequence[str | Path],
    output: str | Path,
    *,
    alpha: float = DEFAULT_ALPHA,
    beta: Beta = DEFAULT_BETA,
    teacher_logprobs: str | None = None,
    token_ids_field: str = "token_ids",
    **options: Any,
) -> RunResult:
    """Score every sentence of every response in `inputs` under the teacher, the student and the distilled
    model, label it (DESIGN.md rules, `rdpt_fast.classify`) and write the output folder (docs/outputs.md).

    teacher / student / distilled: model directories or hub ids, or ready `Scorer`s.
    inputs: JSONL, JSONL.gz or Parquet files, or globs; records {id, prompt, response, ...}.
    beta: a threshold in [0, 1] or "auto" (`rdpt_fast.adaptive_beta` on the run's d_TS).
    teacher_logprobs: take the teacher's scores from this record field (with `token_ids_field`) instead
        of running the teacher; `teacher` is then its tokenizer's directory.
    options: `RunOptions` fields: devices (one model at a time on the first, or one model per device),
        dtype, template, attn_implementation, max_tokens_per_batch, head_backend, mode, trust_remote_code,
        segment_options, chunk_records (records per shard), text (store sentence text), include_markers
        (count markers in label statistics), overwrite, quiet, command.
    A rerun with the same arguments resumes; the result covers the whole folder.
    """
    if isinstance(inputs, (str, Path)):
        inputs = [inputs]
    sources = {
        "teacher": teacher_source(teacher, teacher_logprobs, token_ids_field),
        "student": ModelSource(student),
        "distilled": ModelSource(distilled),
    }
    run = Run(TRACE, sources, inputs, output, RunOptions(alpha=alpha, beta=beta, **options))
    try:
        return run.execute()
    finally:
        run.folder.release()
