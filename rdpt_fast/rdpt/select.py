"""`select`: teacher-guided data selection over candidate teacher responses, grouped by question."""

from __future__ import annotations

import time
from dataclasses import dataclass
from os import PathLike
from typing import Any

from rdpt_fast.engine.config import RunConfig
from rdpt_fast.engine.folder import read_json, write_json
from rdpt_fast.engine.relabel import joined_chunks
from rdpt_fast.engine.result import RunResult
from rdpt_fast.engine.run import Run
from rdpt_fast.engine.schemes import SELECT
from rdpt_fast.rdpt.ranking import (
    QUESTIONS,
    STRATEGIES,
    Selection,
    Strategy,
    select_candidates,
    write_selected,
)
from rdpt_fast.rdpt.trace import Inputs, Model, input_list, model_source, teacher_source
from rdpt_fast.writers import open_rows


@dataclass
class SelectResult:
    """The select run (scores, labels) and the selection made from it."""

    run: RunResult
    selection: Selection
    strategy: str
    keep: int
    parquet_problem: str | None

    @property
    def num_selected(self) -> int:
        return len(self.selection.selected_ids)


def select(
    teacher: Model,
    student: Model,
    inputs: Inputs,
    output: str | PathLike,
    *,
    strategy: Strategy = "max-teacher-count",
    keep: int = 1,
    seed: int = 0,
    teacher_logprobs: str | None = None,
    token_ids_field: str = "token_ids",
    config: RunConfig | None = None,
    **overrides: Any,
) -> SelectResult:
    """Label every sentence of every candidate Common / Teacher / Student from d_TS and beta, rank the
    candidates of each `question_id` by `strategy` (see `rdpt_fast.rdpt.ranking`) and keep the best
    `keep` of each. Writes the run folder (docs/outputs.md) plus questions.parquet, selected.jsonl and
    selected.parquet (the selected records with all their fields and `rdpt_selection` statistics).

    teacher_logprobs: the record field with the teacher's log-probs of the response tokens (and
        `token_ids_field` their ids): then the teacher model is not loaded; `teacher` is its tokenizer's
        directory. config / overrides: as for `trace` (beta: a number or "auto"; alpha does not apply).
    Records without a question_id are rejected. A rerun resumes the scoring; the selection is redone.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)}, got {strategy!r}")
    if keep < 1:
        raise ValueError(f"keep must be at least 1, got {keep}")
    sources = {
        "teacher": teacher_source(teacher, teacher_logprobs, token_ids_field),
        "student": model_source(student),
    }
    with Run(
        SELECT,
        sources,
        input_list(inputs),
        output,
        RunConfig.build(config, **overrides),
        required=("question_id",),
        extra_settings={"strategy": strategy, "keep": keep, "seed": seed},
    ) as run:
        result = run.execute()
        t0 = time.perf_counter()
        selection = select_candidates(run.folder, joined_chunks(run.folder), strategy, keep, seed)
        with open_rows(run.folder.root / QUESTIONS, selection.table.schema) as w:
            w.write_table(selection.table)
        problem = write_selected(run.folder.root, run.spec, selection)
        info = read_json(run.folder.run_json)
        info["selection"] = {
            "strategy": strategy,
            "keep": keep,
            "seed": seed,
            "questions": selection.num_questions,
            "candidates": selection.table.num_rows,
            "selected": len(selection.selected_ids),
            "parquet_problem": problem,
            "seconds": time.perf_counter() - t0,
        }
        write_json(run.folder.run_json, info)
        return SelectResult(result, selection, strategy, keep, problem)
