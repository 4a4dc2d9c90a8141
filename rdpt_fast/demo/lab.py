"""The demo lab: a miniature distillation experiment whose provenance answer is known by construction.

1. A synthetic corpus of word problems, each solved in a teacher style and a student style
   (`rdpt_fast.demo.corpus`), with held-out problems.
2. A BPE tokenizer and four tiny Qwen2 models trained on the CPU (`rdpt_fast.demo.train`): the teacher
   (teacher-style solutions), the student (student-style solutions), the distilled model (the student
   fine-tuned on responses sampled from the teacher) and the control (the student fine-tuned on its own
   samples). Each is saved with `save_pretrained` and read back from disk before it is used.
3. Responses of the distilled model and of the control sampled on the held-out problems, and a pool of
   candidate teacher responses per held-out problem with a known number of teacher-worded steps.

Everything lands in one cache directory keyed by the settings, the seed and the package version; it is
built in a temporary directory and renamed when complete, so a second run with the same key reuses it.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from rdpt_fast import __version__
from rdpt_fast.demo import corpus
from rdpt_fast.demo.sample import sample_responses
from rdpt_fast.demo.train import (
    ModelShape,
    TrainConfig,
    atomic_dir,
    build_tokenizer,
    cache_key,
    cache_root,
    describe,
    encode,
    new_model,
    save_model,
    train_lm,
)

MODELS = ("teacher", "student", "distilled", "control")
CORPORA = (
    "teacher_train",  # teacher-style solutions of the training problems (the teacher's data)
    "student_train",  # student-style solutions of the training problems (the student's data)
    "teacher_samples",  # teacher responses to training prompts (the distilled model's data)
    "student_samples",  # student responses to training prompts (the control's data)
    "distilled_outputs",  # distilled-model responses to held-out problems (what `trace` reads)
    "control_outputs",  # control responses to held-out problems (the baseline for `trace`)
    "candidates",  # candidate teacher responses to held-out problems (what `select` reads)
)
MANIFEST = "lab.json"


@dataclass(frozen=True)
class LabSettings:
    """Everything that determines the lab's output (with the seed).

    n_problems / n_heldout: distinct problems generated, and how many of them are held out.
    pretrain: training of the teacher and of the student from scratch; finetune: training of the
        distilled model and of the control from the student.
    n_distill: training prompts answered by the teacher (and by the student, for the control); only
        responses that reached EOS are kept as fine-tuning data.
    samples_per_heldout: responses per held-out problem from the distilled model and from the control.
    candidates_per_problem: candidate teacher responses per held-out problem (at most 6).
    """

    n_problems: int
    n_heldout: int
    pretrain: TrainConfig
    finetune: TrainConfig
    n_distill: int
    samples_per_heldout: int = 1
    candidates_per_problem: int = 4
    vocab_size: int = 768
    shape: ModelShape = field(default_factory=ModelShape)
    temperature: float = 0.7
    top_p: float = 0.95
    max_new_tokens: int = 128

    @classmethod
    def quick(cls) -> LabSettings:
        """The preset for tests and `--quick`."""
        return cls(
            n_problems=440,
            n_heldout=40,
            pretrain=TrainConfig(steps=100, batch_size=12, lr=4e-3),
            finetune=TrainConfig(steps=80, batch_size=12, lr=4e-3),
            n_distill=192,
        )

    @classmethod
    def full(cls) -> LabSettings:
        """The default preset of `rdpt-fast demo`."""
        return cls(
            n_problems=1000,
            n_heldout=100,
            pretrain=TrainConfig(steps=320, batch_size=16),
            finetune=TrainConfig(steps=200, batch_size=16),
            n_distill=384,
        )


@dataclass(frozen=True)
class LabResult:
    """A built (or reused) lab. `models`: name -> model directory (loadable by `Scorer(path)`, tokenizer
    and chat template included); `corpora`: name -> JSONL file of input records (see CORPORA);
    `manifest`: the contents of lab.json (settings, seed, version, timings, losses, model sizes);
    `cached`: the lab was found in the cache, nothing was trained."""

    root: Path
    models: dict[str, Path]
    corpora: dict[str, Path]
    manifest: dict[str, Any]
    cached: bool


def lab_key(settings: LabSettings, seed: int) -> str:
    return cache_key({"settings": asdict(settings), "seed": seed})


def _write_jsonl(path: Path, records: Sequence[Mapping[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _result(root: Path, cached: bool) -> LabResult:
    manifest = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    return LabResult(
        root=root,
        models={m: root / "models" / m for m in MODELS},
        corpora={c: root / "corpora" / f"{c}.jsonl" for c in CORPORA},
        manifest=manifest,
        cached=cached,
    )


def run_lab(
    settings: LabSettings,
    seed: int = 0,
    *,
    cache_dir: Path | None = None,
    workers: int | None = None,
    log: Callable[[str], None] | None = None,
) -> LabResult:
    """Builds the lab for (settings, seed) under `cache_dir` (default: `cache_root()`) / "demo" / key, or
    returns the one already there. Deterministic: the same settings and seed give the same corpora and
    models, whatever `workers` is (processes that train two models at a time, one torch thread each;
    default: 2 when the machine has at least 2 CPUs, else 1 = everything in this process)."""
    root = (cache_dir or cache_root()) / "demo" / lab_key(settings, seed)
    if (root / MANIFEST).is_file():
        if log:
            log(f"reusing the trained lab in {root}")
        return _result(root, cached=True)
    say = log or (lambda _msg: None)
    say(f"building the lab in {root} (cached for later runs)")
    if workers is None:
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        workers = 2 if cpus >= 2 else 1
    with atomic_dir(root) as tmp, _Runner(workers) as runner:
        _build(settings, seed, tmp, runner, say)
    return _result(root, cached=False)


#: (training stats, samples, sampling seconds) of one job.
JobResult = tuple[dict[str, float], list[dict[str, Any]], float]


@dataclass(frozen=True)
class _Job:
    """Train one model, save it, load it back from disk and sample from it (one process, one thread).

    init: the checkpoint to fine-tune, or None for a fresh model. records: training data. prompts: what
    the saved model then answers (`num_samples` each), recorded with model = `name`."""

    name: str
    tokenizer_dir: Path
    out_dir: Path
    init: Path | None
    records: list[dict[str, Any]]
    train: TrainConfig
    model_seed: int
    prompts: list[dict[str, Any]]
    num_samples: int
    settings: LabSettings


def _run_job(job: _Job) -> JobResult:
    """(training stats, samples, sampling seconds) of `job`, on one torch thread (the caller restores
    the thread count when it runs jobs in its own process)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(1)
    s = job.settings
    tokenizer = AutoTokenizer.from_pretrained(job.tokenizer_dir)
    if job.init is None:
        model = new_model(len(tokenizer), s.shape, seed=job.model_seed)
    else:
        model = AutoModelForCausalLM.from_pretrained(job.init, dtype=torch.float32)
    examples = encode(tokenizer, job.records, s.shape.max_positions)
    stats = train_lm(model, examples, job.train, pad_id=tokenizer.pad_token_id, seed=job.model_seed)
    stats["examples"] = len(examples)
    loaded, loaded_tokenizer = save_model(model, tokenizer, job.out_dir)
    t0 = time.perf_counter()
    samples = sample_responses(
        loaded,
        loaded_tokenizer,
        job.prompts,
        source=job.name,
        seed=job.model_seed + 1,
        temperature=s.temperature,
        top_p=s.top_p,
        max_new_tokens=s.max_new_tokens,
        num_samples=job.num_samples,
    )
    return stats, samples, time.perf_counter() - t0


def _init_worker() -> None:
    """A worker process shows no transformers progress bars (saving and loading checkpoints)."""
    from transformers.utils import logging

    logging.disable_progress_bar()


class _Runner:
    """Runs jobs in a pool of `workers` spawned processes (started on first use, shut down on exit), or
    in this process when workers is 1 (torch's thread count restored afterwards)."""

    def __init__(self, workers: int):
        self.workers = workers
        self.pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> _Runner:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)

    def run(self, jobs: Sequence[_Job]) -> list[JobResult]:
        """Results of `jobs`, in order."""
        if self.workers <= 1:
            threads = torch.get_num_threads()
            try:
                return [_run_job(job) for job in jobs]
            finally:
                torch.set_num_threads(threads)
        if self.pool is None:
            context = multiprocessing.get_context("spawn")
            self.pool = ProcessPoolExecutor(self.workers, mp_context=context, initializer=_init_worker)
        return list(self.pool.map(_run_job, jobs))


def _build(settings: LabSettings, seed: int, out: Path, runner: _Runner, say: Callable[[str], None]) -> None:
    """Parts 1-3 of the lab into the empty directory `out`; lab.json is written last."""
    start = time.perf_counter()
    timings: dict[str, float] = {}
    training: dict[str, dict[str, float]] = {}
    models_dir = out / "models"

    # 1. corpus and tokenizer
    problems = corpus.generate_problems(settings.n_problems, seed)
    train, heldout = corpus.split_problems(problems, settings.n_heldout)
    data: dict[str, list[dict[str, Any]]] = {
        "teacher_train": corpus.solution_records(train, corpus.teacher_solution, "teacher", seed),
        "student_train": corpus.solution_records(train, corpus.student_solution, "student", seed),
        "candidates": corpus.candidate_records(heldout, settings.candidates_per_problem, seed),
    }
    texts = [p.question for p in train] + [
        r["response"] for name in ("teacher_train", "student_train") for r in data[name]
    ]
    tokenizer_dir = out / "tokenizer"
    build_tokenizer(texts, settings.vocab_size, tokenizer_dir)
    timings["corpus_and_tokenizer"] = round(time.perf_counter() - start, 2)
    say(f"corpus: {len(train)} training and {len(heldout)} held-out problems, in two styles")

    def jobs_round(key: str, label: str, jobs: list[_Job]) -> list[list[dict[str, Any]]]:
        """The samples of each job; stats into `training`, the round's time into timings[key]."""
        t0 = time.perf_counter()
        say(f"{key}: {label}")
        samples = []
        for job, (stats, outputs, sample_seconds) in zip(jobs, runner.run(jobs)):
            training[job.name] = {**stats, "sample_seconds": round(sample_seconds, 2)}
            samples.append(outputs)
        timings[key] = round(time.perf_counter() - t0, 2)
        return samples

    # 2. teacher and student from scratch; each answers the same training prompts (distillation data)
    distill_prompts = [
        {"question_id": p.id, "prompt": p.question, "reference_answer": p.answer}
        for p in train[: settings.n_distill]
    ]
    common = {"tokenizer_dir": tokenizer_dir, "train": settings.pretrain, "prompts": distill_prompts}
    data["teacher_samples"], data["student_samples"] = jobs_round(
        "round 1",
        f"training the teacher and the student ({settings.pretrain.steps} steps each), "
        f"sampling {len(distill_prompts)} responses from each",
        [
            _Job(
                name,
                out_dir=models_dir / name,
                init=None,
                records=data[f"{name}_train"],
                model_seed=seed * 10 + i,
                num_samples=1,
                settings=settings,
                **common,
            )
            for i, name in enumerate(("teacher", "student"), start=1)
        ],
    )

    # 3. the student fine-tuned on teacher samples (distilled) or on its own (control); both answer the
    #    held-out problems
    held = [{"question_id": p.id, "prompt": p.question, "reference_answer": p.answer} for p in heldout]
    common = {"tokenizer_dir": tokenizer_dir, "train": settings.finetune, "prompts": held}
    data["distilled_outputs"], data["control_outputs"] = jobs_round(
        "round 2",
        f"fine-tuning the student on teacher samples (distilled) and on its own (control), "
        f"{settings.finetune.steps} steps each; sampling held-out responses",
        [
            _Job(
                name,
                out_dir=models_dir / name,
                init=models_dir / "student",
                records=[r for r in data[f"{source}_samples"] if r["finished"]],
                model_seed=seed * 10 + i,
                num_samples=settings.samples_per_heldout,
                settings=settings,
                **common,
            )
            for i, (name, source) in enumerate((("distilled", "teacher"), ("control", "student")), start=3)
        ],
    )

    (out / "corpora").mkdir()
    for name in CORPORA:
        _write_jsonl(out / "corpora" / f"{name}.jsonl", data[name])
    timings["total"] = round(time.perf_counter() - start, 2)
    manifest = {
        "seed": seed,
        "version": __version__,
        "settings": asdict(settings),
        "timings": timings,
        "workers": runner.workers,
        "training": training,
        "models": {name: describe(models_dir / name) for name in MODELS},
        "counts": {name: len(data[name]) for name in CORPORA},
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    say(f"lab built in {timings['total']:.0f} s")
