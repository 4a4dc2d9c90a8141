"""The Ray executor on a local Ray cluster started here (2 CPUs, no GPU) with tiny models: the same rows as a
local run, each row exactly once when an actor dies mid-run, and a driver killed mid-run resumes without
duplicates. One cluster for the module; its workers run `faults.install` (kill / raise on marked records)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import ray
from rdpt.conftest import write_jsonl
from tiny_data import real_records
from transformers import AutoTokenizer

import rdpt_fast
from rdpt_fast.cli.main import main as cli_main
from rdpt_fast.engine.folder import RunFolder

from .faults import BOOM_ID, FLAG_ENV, KILL_ID

ALPHA, BETA = 4e-4, 5e-5  # tiny random models give p ~ 1e-3: small thresholds make every label occur
#: Small forward passes make units of a few records, so a run has several units and actors share them.
RUN = {"template": None, "chunk_records": 3, "max_tokens_per_batch": 128, "quiet": True}
TRACE = {"alpha": ALPHA, "beta": BETA, **RUN}
BAD_SEGMENTS = {"id": "bad-segments", "prompt": "p", "response": "Some text.", "segments": "nope"}


@pytest.fixture(scope="module")
def killed_flag(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The local Ray cluster of this module; the path of the flag file `faults` writes when it kills."""
    flag = tmp_path_factory.mktemp("faults") / "killed"
    tests_dir = str(Path(__file__).resolve().parents[1])
    env = {"PYTHONPATH": os.pathsep.join(p for p in (tests_dir, os.environ.get("PYTHONPATH")) if p)}
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        logging_level="WARNING",
        runtime_env={
            "env_vars": {**env, FLAG_ENV: str(flag)},
            "worker_process_setup_hook": "distributed.faults.install",
        },
    )
    yield flag
    ray.shutdown()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """13 valid records (5 chunks of 3), one of them no model can score (bad segments), and a line that
    is not JSON."""
    recs = real_records(12, max_chars=400)
    for i, r in enumerate(recs):
        r["question_id"] = f"q{i % 4}"
    recs.insert(5, BAD_SEGMENTS)
    return write_jsonl(tmp_path_factory.mktemp("corpus") / "in.jsonl", recs, {3: "{not json"})


@pytest.fixture(scope="module")
def local_trace(models, corpus, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("local") / "out"
    rdpt_fast.trace(models["teacher"], models["student"], models["distilled"], corpus, out, **TRACE)
    return out


def read(path: Path) -> list[dict]:
    """The rows of a Parquet file or folder."""
    return pq.read_table(path).to_pylist()


def rejects(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "rejects.jsonl").read_text().splitlines()]


def sorted_rejects(folder: Path) -> list[dict]:
    return sorted(rejects(folder), key=lambda r: r["location"])


def selected(folder: Path) -> list[str]:
    return sorted(json.loads(line)["id"] for line in (folder / "selected.jsonl").read_text().splitlines())


def assert_same_rows(got: Path, want: Path, roles: tuple[str, ...], failed: str | None = None) -> None:
    """Each segments, score, sentence and record row of `got` once, the same set as `want` but for the record
    `failed` (an error row in every role of `got` only), scores equal within fp32 tolerance, labels equal."""
    spans = sorted((r for r in read(got / "segments") if r["id"] != failed), key=lambda r: r["id"])
    assert spans == sorted(read(want / "segments"), key=lambda r: r["id"])
    for role in roles:
        rows = read(got / f"scores/{role}")
        assert [r["error"] is not None for r in rows if r["id"] == failed] == ([True] if failed else [])
        rows = [r for r in rows if r["id"] != failed]
        want_rows = {r["id"]: r for r in read(want / f"scores/{role}")}
        assert sorted(r["id"] for r in rows) == sorted(want_rows)
        for r in rows:
            ref = want_rows[r["id"]]
            for name in ("error", "num_tokens", "num_response_tokens"):
                assert r[name] == ref[name], (role, r["id"], name)
            assert r["sum_logprob"] == pytest.approx(ref["sum_logprob"], rel=1e-5, abs=1e-4)
    sentences = read(got / "sentences")
    keys = [(s["id"], s["sentence"]) for s in sentences]
    straight = {(s["id"], s["sentence"]): s for s in read(want / "sentences")}
    assert len(keys) == len(set(keys)) and set(keys) == set(straight)
    for s in sentences:
        ref = straight[(s["id"], s["sentence"])]
        assert s["label"] == ref["label"]
        for role in roles:
            assert s[f"{role}_prob"] == pytest.approx(ref[f"{role}_prob"], rel=1e-5, abs=1e-9)
    records = [r["id"] for r in read(got / "records")]
    assert len(records) == len(set(records)) and set(records) == {r["id"] for r in read(want / "records")}


def completed(folder: Path) -> tuple[dict[str, dict[int, int | None]], int | None]:
    """Each stage's complete chunks with their record counts, and the number of chunks."""
    run = RunFolder(folder)
    run.load()
    stages = {
        stage: {c: run.entry(stage, c).get("records") for c in run.done(stage)}
        for stage in run.manifest["stages"]
    }
    return stages, run.num_chunks


def test_trace_on_ray_gives_the_local_rows(killed_flag, models, corpus, local_trace, tmp_path):
    out = tmp_path / "ray"
    teacher, student, distilled = models["teacher"], models["student"], models["distilled"]
    result = rdpt_fast.trace(teacher, student, distilled, corpus, out, executor="ray", num_workers=1, **TRACE)
    assert_same_rows(out, local_trace, ("teacher", "student", "distilled"))
    assert rejects(out) == rejects(local_trace)
    assert completed(out) == completed(local_trace)
    passes = result.passes["teacher"]
    assert (
        passes["device"] == "ray: 1 CPU worker(s)" and passes["units"] > 2 and passes["records"] == 12
    )  # not the one without spans
    models_json = json.loads((out / "run.json").read_text())["models"]
    assert models_json == json.loads((local_trace / "run.json").read_text())["models"]
    assert not killed_flag.exists()


def test_score_command_on_ray_gives_the_local_rows(killed_flag, models, corpus, tmp_path):
    def score(out: Path, *extra: str) -> dict[tuple[str, int], dict]:
        args = ["score", "--model", str(models["teacher"]), "--input", str(corpus), "-o", str(out), "-q"]
        args += ["--template", "none", "--max-tokens", "128", "--shard-records", "4", *extra]
        assert cli_main(args) == 1  # the line that is not JSON and the bad segments are rejected
        rows = read(out / "sentences")
        by_key = {(r["id"], r["sentence"]): r for r in rows}
        assert len(by_key) == len(rows)
        return by_key

    here = score(tmp_path / "local")
    there = score(tmp_path / "ray", "--executor", "ray", "--num-workers", "1")
    assert set(there) == set(here)
    for key, row in there.items():
        assert row["sum_logprob"] == pytest.approx(here[key]["sum_logprob"], rel=1e-5, abs=1e-4)
    assert sorted_rejects(tmp_path / "ray") == sorted_rejects(tmp_path / "local")


def test_select_survives_a_dead_actor_and_a_failing_record(killed_flag, models, corpus, tmp_path):
    """The teacher comes from precomputed log-probs (CPU actors), the student from its model."""
    tokenizer = AutoTokenizer.from_pretrained(models["teacher"])
    recs = [json.loads(line) for line in corpus.read_text().splitlines() if line.startswith('{"')]
    for r in recs:
        r["token_ids"] = tokenizer(r["response"], add_special_tokens=False)["input_ids"]
        r["teacher_lp"] = [-0.25 * (i % 9) for i in range(len(r["token_ids"]))]
    recs[7]["id"] = KILL_ID  # the first actor to score it dies; a record that raises is scored alone
    marked = write_jsonl(tmp_path / "marked.jsonl", [*recs, {**recs[0], "id": BOOM_ID}])
    clean = write_jsonl(tmp_path / "clean.jsonl", recs)
    run = {"teacher_logprobs": "teacher_lp", **RUN}
    teacher, student = models["teacher"], models["student"]
    ray_run = {"executor": "ray", "num_workers": 2, **run}
    result = rdpt_fast.select(teacher, student, marked, tmp_path / "ray", **ray_run)
    assert killed_flag.exists()
    assert result.run.passes["teacher"]["device"] == "ray: 2 CPU worker(s)"
    rdpt_fast.select(teacher, student, clean, tmp_path / "local", **run)
    assert_same_rows(tmp_path / "ray", tmp_path / "local", ("teacher", "student"), failed=BOOM_ID)
    teacher_rows = read(tmp_path / "ray" / "scores/teacher")
    assert {r["source"] for r in teacher_rows if not r["error"]} == {"precomputed"}
    boom = [r for r in rejects(tmp_path / "ray") if r["id"] == BOOM_ID]
    assert len(boom) == 1 and "RuntimeError: injected failure" in boom[0]["error"]
    assert selected(tmp_path / "ray") == selected(tmp_path / "local")


def test_a_killed_driver_resumes_without_duplicates(killed_flag, models, corpus, local_trace, tmp_path):
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "rdpt_fast.cli.main", "trace", "--input", str(corpus), "-o", str(out)]
    cmd += [f"--{role}={path}" for role, path in models.items()]
    cmd += ["--template", "none", "--chunk-records", "3", "--max-tokens", "128", "-q"]
    cmd += ["--alpha", str(ALPHA), "--beta", str(BETA), "--executor", "ray", "--num-workers", "1"]
    cmd += ["--ray-address", ray.get_runtime_context().gcs_address]  # this module's cluster
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    try:
        while not _scored_some(out):
            assert proc.poll() is None, f"the run ended (rc {proc.returncode}) before it could be killed"
            assert time.monotonic() < deadline, "no score shard within 240 s"
            time.sleep(0.05)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    stages, _ = completed(out)
    _, chunks = completed(local_trace)
    scored = sum(len(v) for stage, v in stages.items() if stage.startswith("scores/"))
    assert "join" not in stages and scored < 3 * chunks  # killed mid-scoring
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr[-3000:]  # the corpus holds two records no run can take
    assert_same_rows(out, local_trace, ("teacher", "student", "distilled"))
    assert completed(out) == completed(local_trace)


def _scored_some(out: Path) -> bool:
    try:
        return any(stage.startswith("scores/") for stage in completed(out)[0])
    except FileNotFoundError:  # the run has not created its folder yet
        return False
