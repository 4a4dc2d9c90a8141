"""One run of the engine over a corpus: `score` (one role), `trace` and `select` alike.

    inputs (streamed, validated, chunked) -> segments, once per record      segments/part-NNNNN.parquet
      -> per role: an executor runs the role's Scorer over the chunks not done yet   scores/<role>/...
      -> join (labels for trace / select)            sentences/ (+ records/), rejects.jsonl, run.json

Every stage is resumable: completed shards are listed in the manifest and skipped. A folder written with
other scoring settings, another model, another kind of run or another layout is refused; `.lock` keeps a
second writer out.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rdpt_fast.engine.config import RunConfig
from rdpt_fast.engine.executors import make_executor
from rdpt_fast.engine.folder import LAYOUT, SEGMENTS_STAGE, RunFolder, read_json, write_json
from rdpt_fast.engine.inputs import InputSpec, expand_inputs, fingerprint
from rdpt_fast.engine.jobs import RoleJob
from rdpt_fast.engine.join_pass import join_pass
from rdpt_fast.engine.relabel import choose_beta, folder_totals, now, relabel_folder
from rdpt_fast.engine.result import RunResult
from rdpt_fast.engine.role_pass import scores_stage
from rdpt_fast.engine.schemes import Scheme
from rdpt_fast.engine.segments_pass import ChunkStream, segment_pass
from rdpt_fast.engine.sources import ModelSource
from rdpt_fast.segmentation import resolve_rules
from rdpt_fast.writers import open_rows

#: Settings that change the scores: a folder written with other values is not resumed.
SCORING_KEYS = (
    "inputs",
    "fields",
    "limit",
    "generate_ids",
    "models",
    "dtype",
    "template",
    "max_length",
    "segment_options",
    "segmentation",
    "chunk_records",
    "mode",
)
#: Settings that change what the join writes besides the labels: other values redo the join.
JOIN_KEYS = ("text",)


def segmentation_version(options: Mapping[str, Any]) -> str:
    """The versioned ruleset the run segments with ("reasoning-v2"), or the custom pattern."""
    rules = options.get("rules", "reasoning")
    if isinstance(rules, re.Pattern):
        return f"pattern {rules.pattern!r}"
    return resolve_rules(rules)


class Run:
    """A run in progress, used as a context manager (`with Run(...) as run: run.execute()`): `execute` does
    every stage and returns the `RunResult`; the folder stays locked until the block ends (a caller may
    write more into it, as `select` does)."""

    def __init__(
        self,
        scheme: Scheme,
        sources: Mapping[str, ModelSource],
        inputs: Sequence[str | Path],
        output: str | Path,
        config: RunConfig,
        *,
        required: Sequence[str] = (),
        extra_settings: Mapping[str, Any] | None = None,
    ):
        if set(sources) != set(scheme.roles):
            raise ValueError(f"a {scheme.kind} run needs the models {', '.join(scheme.roles)}")
        for role in scheme.roles:
            sources[role].check(role)
        self.scheme = scheme
        self.sources = {role: sources[role] for role in scheme.roles}
        self.config = config
        self.spec = InputSpec(
            tuple(expand_inputs(inputs)),
            config.chunk_records,
            tuple(required),
            config.id_field,
            config.prompt_field,
            config.response_field,
            config.limit,
            config.generate_ids,
        )
        self.folder = RunFolder(output)
        self.extra_settings = dict(extra_settings or {})

    def settings(self) -> dict[str, Any]:
        """What run.json records of the run's settings (`SCORING_KEYS` must match to resume)."""
        c, s = self.config, self.config.scorer
        labels = {"alpha": c.alpha, "beta": c.beta, "include_markers": c.include_markers}
        return {
            "layout": LAYOUT,
            "kind": self.scheme.kind,
            "inputs": fingerprint(self.spec.paths),
            **self.spec.fields(),
            "models": {role: src.describe() for role, src in self.sources.items()},
            "dtype": s.dtype,
            "template": s.template,
            "max_length": s.max_length,
            "segment_options": {k: str(v) for k, v in s.segment_options.items()},
            "segmentation": segmentation_version(s.segment_options),
            "chunk_records": c.chunk_records,
            "mode": s.mode,
            **(labels if self.scheme.labelled else {}),
            "text": c.text,
            **self.extra_settings,
        }

    def __enter__(self) -> Run:
        return self

    def __exit__(self, *exc: object) -> None:
        self.folder.release()

    def execute(self) -> RunResult:
        """Run every stage not done yet (the folder is locked from here); the result covers the whole
        folder."""
        from rdpt_fast import __version__

        t0 = time.perf_counter()
        folder, config, scheme = self.folder, self.config, self.scheme
        settings = self.settings()
        folder.open(settings, scoring_keys=SCORING_KEYS, join_keys=JOIN_KEYS, overwrite=config.overwrite)
        before = read_json(folder.run_json) if folder.run_json.exists() else {}
        models = dict(before.get("models") or {})  # what each role's pass loaded, kept across resumes
        info = {
            "kind": scheme.kind,
            "version": __version__,
            "created": before.get("created") or now(),
            "command": list(config.command) if config.command else None,
            "settings": settings,
            "models": models,
            "complete": False,
        }
        write_json(folder.run_json, info)
        options = config.scorer.segment_options
        total = segment_pass(folder, self.spec, options)
        summaries = make_executor(config).run_roles(self._jobs(total), folder)
        for role, summary in summaries.items():
            if summary.model:  # a pass with nothing left to score keeps what the folder had
                models[role] = summary.model
        names = {role: m.get("name", role) for role, m in models.items()}
        drop = [f for src in self.sources.values() for f in src.record_fields()]
        t_join = time.perf_counter()
        rejects = join_pass(folder, scheme, config, self.spec, names, drop, total)
        join_seconds = time.perf_counter() - t_join
        beta, adaptive, relabelled = None, None, 0
        if scheme.labelled:
            beta, adaptive = choose_beta(folder, config.beta, config.include_markers)
            relabelled = relabel_folder(folder, scheme, config.alpha, beta, config.include_markers)
        with open_rows(folder.rejects) as w:
            w.write(rejects)
        totals = folder_totals(folder, scheme)
        seconds = time.perf_counter() - t0
        passes = {role: s.timings() for role, s in summaries.items()}
        if scheme.labelled:
            info.update(
                alpha=config.alpha,
                beta=beta,
                beta_mode="auto" if adaptive else "fixed",
                adaptive=adaptive.to_dict() if adaptive else None,
            )
        info.update(
            timings={
                "passes": passes,
                "join_seconds": join_seconds,
                "relabelled_chunks": relabelled,
                "total_seconds": seconds,
            },
            counts={**totals, "rejected": len(rejects)},
            updated=now(),
            complete=True,
        )
        write_json(folder.run_json, info)
        return RunResult(
            folder.root,
            scheme.kind,
            config.alpha if scheme.labelled else None,
            beta,
            adaptive,
            totals["records"],
            totals["sentences"],
            len(rejects),
            totals["labels"],
            seconds,
            passes,
        )

    def _jobs(self, total: int) -> list[RoleJob]:
        """The roles with chunks still to score."""
        folder = self.folder
        chunks = set(range(folder.num_chunks or 0))
        jobs = []
        for role in self.scheme.roles:
            done = folder.done(scores_stage(role)) & chunks
            if done == chunks:
                continue
            stream = ChunkStream(self.spec, folder.root, frozenset(done))
            done_records = sum(folder.entry(SEGMENTS_STAGE, c).get("records", 0) for c in done)
            label = f"{self.scheme.kind} {role}" if len(self.scheme.roles) > 1 else self.scheme.kind
            jobs.append(
                RoleJob(role, self.sources[role], stream, label, len(done), done_records, total or None)
            )
        return jobs
