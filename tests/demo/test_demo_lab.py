"""The demo lab: corpus generator, cache, and the provenance result it is built to show (quick preset)."""

from __future__ import annotations

import random
import re
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
import torch

from rdpt_fast.demo import corpus
from rdpt_fast.demo.lab import CORPORA, MODELS, LabSettings, lab_key, read_jsonl, run_lab
from rdpt_fast.demo.sample import sample_responses
from rdpt_fast.demo.train import atomic_dir, cache_root

BETA = 0.1
TEACHER_OPENERS = tuple(f.split("{x}")[0] for frames in corpus.TEACHER_FRAMES.values() for f in frames)
OPS = {
    "plus": lambda a, b: a + b, "+": lambda a, b: a + b,
    "minus": lambda a, b: a - b, "-": lambda a, b: a - b,
    "times": lambda a, b: a * b, "x": lambda a, b: a * b,
    "divided by": lambda a, b: a / b, "/": lambda a, b: a / b,
}  # fmt: skip
EQUATION = re.compile(r"(\d+) (plus|minus|times|divided by|\+|-|x|/) (\d+) (?:equals|gives back|=) (\d+)")


# -- corpus ---------------------------------------------------------------------------------------------
def all_records(seed: int, n: int = 300) -> list[dict]:
    problems = corpus.generate_problems(n, seed)
    return corpus.solution_records(problems, corpus.teacher_solution, "teacher", seed) + (
        corpus.solution_records(problems, corpus.student_solution, "student", seed)
        + corpus.candidate_records(problems, 4, seed)
    )


def test_corpus_is_a_function_of_the_seed():
    assert all_records(3) == all_records(3)
    assert [r["response"] for r in all_records(3)] != [r["response"] for r in all_records(4)]


def test_heldout_problems_are_disjoint_from_training_problems():
    train, heldout = corpus.split_problems(corpus.generate_problems(500, 0), 60)
    assert (len(train), len(heldout)) == (440, 60)
    assert not {p.question for p in train} & {p.question for p in heldout}
    assert len({p.id for p in train + heldout}) == 500
    assert {p.kind for p in heldout} == set(corpus.KINDS)


def expected_answer(p: corpus.Problem) -> str:
    """The answer recomputed from the question text alone."""
    nums = [int(n) for n in re.findall(r"\d+", p.question)]
    if p.kind == "add":
        return str(nums[0] + nums[1])
    if p.kind == "sub":
        return str(nums[0] - nums[1])
    if p.kind == "mul":
        return str(nums[0] * nums[1])
    if p.kind == "div":
        assert nums[0] % nums[1] == 0
        return str(nums[0] // nums[1])
    if p.kind == "convert":
        (factor,) = {f for _, _, small, f in corpus.UNITS if p.question.startswith(f"How many {small} ")}
        return str(nums[0] * factor)
    names = re.findall(r"\b[A-Z][a-z]+\b", p.question)[:2]  # "Ana has .. and Ben has .. Who ..."
    return f"{names[0] if nums[0] > nums[1] else names[1]}, by {abs(nums[0] - nums[1])}"


def test_answers_and_every_equation_are_correct():
    problems = corpus.generate_problems(600, 1)
    records = all_records(1, 600)
    by_id = {p.id: p for p in problems}
    assert all(p.answer == expected_answer(p) for p in problems)
    equations = 0
    for r in records:
        assert corpus.final_answer(r["response"]) == by_id[r["question_id"]].answer
        found = EQUATION.findall(r["response"])
        assert found, r["id"]  # the compute step is always there
        for a, op, b, c in found:
            assert OPS[op](int(a), int(b)) == int(c), (r["id"], a, op, b, c)
        equations += len(found)
    assert equations > 1.5 * len(records)  # and the verify step in most responses


def sentences(response: str) -> list[str]:
    """The text sentences of a response (markers and the shared answer sentence left out)."""
    from rdpt_fast import segment

    spans = segment(response)
    texts = [response[s.start : s.end].strip() for s in spans if s.kind == "text"]
    return [t for t in texts if not t.startswith("The answer is")]


def test_the_two_styles_are_present_and_distinct():
    problems = corpus.generate_problems(200, 2)
    rng = random.Random(0)
    for p in problems:
        teacher = sentences(corpus.teacher_solution(p, rng))
        student = sentences(corpus.student_solution(p, rng))
        assert len(teacher) == 5 and all(s.startswith(TEACHER_OPENERS) for s in teacher)
        assert 2 <= len(student) <= 5 and not any(s.startswith(TEACHER_OPENERS) for s in student)
        assert not set(teacher) & set(student)
        assert re.search(r"\d+ [-+x/] \d+ = \d+", "\n".join(student))  # the student writes symbols
    kinds = {p.kind for p in problems}
    assert kinds == set(corpus.KINDS)


def test_candidates_have_a_known_number_of_teacher_sentences():
    problems = corpus.generate_problems(50, 0)
    cands = corpus.candidate_records(problems, 4, 0)
    groups = defaultdict(list)
    for c in cands:
        found = sum(s.startswith(TEACHER_OPENERS) for s in sentences(c["response"]))
        assert found == c["teacher_steps"]
        groups[c["question_id"]].append(c["teacher_steps"])
    assert len(groups) == 50 and all(len(set(v)) == 4 for v in groups.values())


# -- cache ----------------------------------------------------------------------------------------------
def test_cache_root_precedence(monkeypatch, tmp_path):
    monkeypatch.delenv("RDPT_FAST_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_root() == tmp_path / "xdg" / "rdpt-fast"
    monkeypatch.setenv("RDPT_FAST_CACHE", str(tmp_path / "mine"))
    assert cache_root() == tmp_path / "mine"
    monkeypatch.delenv("RDPT_FAST_CACHE")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_root() == Path.home() / ".cache" / "rdpt-fast"


def test_cache_key_depends_on_settings_and_seed():
    quick = LabSettings.quick()
    keys = {lab_key(quick, 0), lab_key(quick, 1), lab_key(LabSettings.full(), 0)}
    assert len(keys) == 3 and lab_key(LabSettings.quick(), 0) == lab_key(quick, 0)


def test_atomic_dir_leaves_nothing_behind_on_error(tmp_path):
    final = tmp_path / "lab"
    with pytest.raises(RuntimeError), atomic_dir(final) as tmp:
        (tmp / "half-written").write_text("x")
        raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []
    with atomic_dir(final) as tmp:
        (tmp / "done").write_text("x")
    assert [p.name for p in tmp_path.iterdir()] == ["lab"] and (final / "done").is_file()


# -- the lab (quick preset) -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """The quick lab, built once into a temporary cache (RDPT_FAST_CACHE)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RDPT_FAST_CACHE", str(tmp_path_factory.mktemp("cache")))
        start = time.perf_counter()
        result = run_lab(LabSettings.quick(), seed=0)
        seconds = time.perf_counter() - start
        yield result, seconds


@pytest.fixture()
def one_thread():
    """Scoring on one torch thread: steadier than two on a small, busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def probs(model_dir: Path, records: list[dict]) -> list[np.ndarray]:
    """Per record, the probability of each text sentence under the model (markers left out)."""
    from rdpt_fast import Scorer

    out = []
    for scored in Scorer(str(model_dir), device="cpu").score(records):
        assert scored.ok, scored.error
        text = [k == "text" for k in scored.segments.kind_names]
        out.append(np.array([p for p, keep in zip(scored.prob, text) if keep], dtype=np.float64))
    return out


@pytest.mark.slow
def test_lab_builds_the_models_and_corpora(lab):
    result, seconds = lab
    assert not result.cached and result.root.is_relative_to(cache_root())  # RDPT_FAST_CACHE, set by `lab`
    for name in MODELS:
        assert (result.models[name] / "model.safetensors").is_file()
        assert (result.models[name] / "tokenizer.json").is_file()
    heldout = {r["question_id"] for r in read_jsonl(result.corpora["candidates"])}
    train = {r["question_id"] for r in read_jsonl(result.corpora["teacher_train"])}
    assert len(heldout) == 40 and not heldout & train
    for name in CORPORA:
        records = read_jsonl(result.corpora[name])
        assert records and len({r["id"] for r in records}) == len(records)
        for r in records:
            assert isinstance(r["prompt"], str) and r["response"].startswith(corpus.THINK_OPEN)
    for name in ("distilled_outputs", "control_outputs"):
        records = read_jsonl(result.corpora[name])
        assert {r["question_id"] for r in records} == heldout
        assert np.mean([r["finished"] for r in records]) > 0.8
    manifest = result.manifest
    assert manifest["seed"] == 0 and set(manifest["training"]) == set(MODELS)
    assert manifest["models"]["teacher"]["model_type"] == "qwen2"
    assert manifest["training"]["teacher"]["final_loss"] < 1.0
    print(f"quick lab: {seconds:.1f} s, {manifest['timings']}")


@pytest.mark.slow
def test_distilled_outputs_are_teacher_like_and_control_outputs_are_not(lab, one_thread):
    result, _ = lab
    share = {}
    for name in ("distilled_outputs", "control_outputs"):
        records = read_jsonl(result.corpora[name])
        p_t = np.concatenate(probs(result.models["teacher"], records))
        p_s = np.concatenate(probs(result.models["student"], records))
        share[name] = float(np.mean(p_t - p_s > BETA))
    print(f"share of sentences with p_T - p_S > {BETA}: {share}")
    assert share["distilled_outputs"] > 0.6
    assert share["control_outputs"] < 0.2
    assert share["distilled_outputs"] - share["control_outputs"] > 0.5


@pytest.mark.slow
def test_max_teacher_count_picks_the_most_teacher_typical_candidate(lab, one_thread):
    result, _ = lab
    cands = read_jsonl(result.corpora["candidates"])
    counts = [
        int(np.sum(t - s > BETA))
        for t, s in zip(probs(result.models["teacher"], cands), probs(result.models["student"], cands))
    ]
    groups = defaultdict(list)
    for c, n in zip(cands, counts):
        groups[c["question_id"]].append((n, c["teacher_steps"]))
    picked = [max(g, key=lambda x: x[0])[1] for g in groups.values()]  # first of the ties, input order
    best = [max(steps for _, steps in g) for g in groups.values()]
    hits = np.mean([p == b for p, b in zip(picked, best)])
    print(f"max-teacher-count picked the most teacher-typical candidate for {hits:.0%} of problems")
    assert hits >= 0.8
    assert np.mean(picked) > np.mean([c["teacher_steps"] for c in cands]) + 1.0


@pytest.mark.slow
def test_second_run_reuses_the_cache(lab):
    result, _ = lab
    stamp = (result.models["teacher"] / "model.safetensors").stat().st_mtime_ns
    start = time.perf_counter()
    again = run_lab(LabSettings.quick(), seed=0, cache_dir=result.root.parent.parent)
    assert again.cached and again.root == result.root and time.perf_counter() - start < 5.0
    assert (again.models["teacher"] / "model.safetensors").stat().st_mtime_ns == stamp
    assert again.manifest == result.manifest


@pytest.mark.slow
def test_sampling_is_reproducible_with_its_seed(lab, one_thread):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    result, _ = lab
    path = result.models["distilled"]
    model = AutoModelForCausalLM.from_pretrained(path).eval()
    tokenizer = AutoTokenizer.from_pretrained(path)
    prompts = read_jsonl(result.corpora["candidates"])[:16:4]
    runs = [
        sample_responses(model, tokenizer, prompts, source="d", seed=s, max_new_tokens=48) for s in (5, 5, 6)
    ]
    assert runs[0] == runs[1] and runs[0] != runs[2]
    assert all(r["response"].startswith(corpus.THINK_OPEN) and r["model"] == "d" for r in runs[0])


@pytest.mark.slow
def test_demo_command_traces_selects_and_reports(lab, one_thread, tmp_path):
    import argparse

    from rdpt_fast.cli import demo_cmd

    result, _ = lab
    parser = argparse.ArgumentParser()
    demo_cmd.add_parser(parser.add_subparsers())
    args = parser.parse_args(["demo", "--quick", "--seed", "0", "--out", str(tmp_path / "out")])
    assert (args.quick, args.seed, args.device, args.run) == (True, 0, "auto", demo_cmd.run)
    summary = demo_cmd.run_demo(args.quick, args.seed, Path(args.out), device="cpu")
    assert summary.lab_cached and summary.lab_root == result.root
    teacher = {name: shares["teacher"] for name, shares in summary.shares.items()}
    assert teacher["distilled"] > 0.6 and teacher["control"] < 0.2, teacher
    assert summary.questions == 40 and summary.picked_best >= 32
    assert summary.steps_selected > summary.steps_all + 1.0
    assert all(path.is_file() and path.is_relative_to(tmp_path / "out") for path in summary.reports.values())
    text = demo_cmd.format_summary(summary)
    assert "distilled model" in text and str(summary.reports["distilled"]) in text
    print(text)
