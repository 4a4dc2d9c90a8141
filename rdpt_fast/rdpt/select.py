"""`select`: teacher-guided data selection over candidate teacher responses, grouped by question."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rdpt_fast.rdpt.join import SELECT
from rdpt_fast.rdpt.labels import DEFAULT_BETA
from rdpt_fast.rdpt.run import Beta, ModelSource, Run, RunOptions, RunResult, joined_chunks
from rdpt_fast.rdpt.selection import QUESTIONS, STRATEGIES, Selection, select_candidates, write_selected
from rdpt_fast.rdpt.store import read_json, write_json
from rdpt_fast.rdpt.trace import teacher_source
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
    teacher: Any,
    student: Any,
    inputs: str | Path | Sequence[str | Path],
    output: str | Path,
    *,
    strategy: str = "max-teacher-count",
    keep: int = 1,
    beta: Beta = DEFAULT_BETA,
    seed: int = 0,
    teacher_logprobs: str | None = None,
    token_ids_field: str = "token_ids",
    **options: Any,
) -> SelectResult:
    """Label every sentence of every candidate Common / Teacher / Student from d_TS and beta, rank the
    candidates of each `question_id` by `strategy` (see `rdpt_fast.rdpt.selection`) and keep the best
    `keep` of each. Writes the run folder (docs/outputs.md) plus questions.parquet, selected.jsonl and
    selected.parquet (the selected records with all their fields and `rdpt_selection` statistics).

    teacher_logprobs: the record field with the teacher's log-probs of the response tokens (and
        `token_ids_field` their ids): then the teacher model is not loaded; `teacher` is its tokenizer's
        directory. options: `RunOptions` fields, as for `trace`.
    Records without a question_id are rejected. A rerun resumes the scoring; the selection is redone.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)}, got {strategy!r}")
    if keep < 1:
        raise ValueError(f"keep must be at least 1, got {keep}")
    if isinstance(inputs, (str, Path)):
        inputs = [inputs]
    sources = {
        "teacher": teacher_source(teacher, teacher_logprobs, token_ids_field),
        "student": ModelSource(student),
    }
    run_options = RunOptions(beta=beta, **options)
    run = Run(
        SELECT,
        sources,
        inputs,
        output,
        run_options,
        required=("question_id",),
        extra_settings={"strategy": strategy, "keep": keep, "seed": seed},
    )
    try:
        result = run.execute()
        t0 = time.perf_counter()
        selection = select_candidates(run.folder, joined_chunks(run.folder), strategy, keep, seed)
        with open_rows(run.folder.root / QUESTIONS, selection.table.schema) as w:
            w.write_table(selection.table)
        problem = write_selected(run.folder.root, run.paths, selection)
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
    finally:
        run.folder.release()
