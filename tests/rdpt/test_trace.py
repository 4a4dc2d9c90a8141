"""`trace` end to end on tiny models: scores against an independent naive scorer, labels against the
literal rules, rejects with line numbers, relabelling without models, parallel devices."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch
from scoring.naive import naive_scores
from tiny_data import real_records
from transformers import AutoModelForCausalLM, AutoTokenizer

import rdpt_fast

from .conftest import write_jsonl
from .test_labels import reference_label

ALPHA, BETA = 4e-4, 5e-5  # random tiny models give p ~ 1e-3: small thresholds make every label occur


def corpus(tmp_path: Path, n: int = 7) -> tuple[Path, list[dict]]:
    recs = real_records(n, max_chars=500)
    for i, r in enumerate(recs):
        r["question_id"] = f"q{i % 3}"
        r["correct"] = i % 2 == 0
    bad = {
        2: "{not json",
        4: json.dumps({"id": recs[0]["id"], "prompt": "p", "response": "dup"}),
        5: json.dumps({"id": "no-response", "prompt": "p"}),
        6: json.dumps({"id": "bad-correct", "prompt": "p", "response": "r.", "correct": "yes"}),
    }
    return write_jsonl(tmp_path / "in.jsonl", recs, bad), recs


def table(folder: Path, name: str) -> list[dict]:
    return pq.read_table(folder / name).to_pylist()


def run_trace(models: dict[str, Path], inp: Path, out: Path, **options) -> rdpt_fast.RunResult:
    """trace in raw mode (template None: the naive scorer's context is the prompt) with the test defaults."""
    kw = {"alpha": ALPHA, "beta": BETA, "template": None, "chunk_records": 3, "quiet": True, **options}
    return rdpt_fast.trace(models["teacher"], models["student"], models["distilled"], inp, out, **kw)


@pytest.fixture(scope="module")
def traced(models, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("trace")
    path, recs = corpus(tmp)
    return tmp, recs, run_trace(models, path, tmp / "out", text=True)


def naive_probs(model_dir: Path, recs: list[dict]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    tok = AutoTokenizer.from_pretrained(model_dir)
    out = {}
    for r in recs:
        _, sums, counts = naive_scores(model, tok, r["prompt"], r["response"], add_special_tokens=True)
        out[r["id"]] = (sums, counts)
    return out


def test_rejects_name_the_line_and_field(traced):
    tmp, _, result = traced
    rejects = [json.loads(line) for line in (tmp / "out" / "rejects.jsonl").read_text().splitlines()]
    where = {(r["location"].rsplit(":", 1)[1], r["field"], r["stage"]) for r in rejects}
    # bad line i is written before row i, so it sits on line i + (bad lines before it) + 1
    assert where == {
        ("3", None, "input"),
        ("6", "id", "input"),
        ("8", "response", "input"),
        ("10", "correct", "input"),
    }
    assert result.rejected == 4 and result.records == 7


def test_scores_and_labels_match_naive_and_literal_rules(traced, models):
    tmp, recs, _ = traced
    sentences = table(tmp / "out", "sentences")
    keys = [(s["id"], s["sentence"]) for s in sentences]
    assert len(keys) == len(set(keys))  # each (record, sentence) once
    by_id = {r["id"]: r for r in recs}
    naive = {role: naive_probs(models[role], recs) for role in ("teacher", "student", "distilled")}
    labels = set()
    for s in sentences:
        rec = by_id[s["id"]]
        segs = rdpt_fast.segment(rec["response"])
        assert s["num_sentences"] == len(segs)
        assert (s["start"], s["end"]) == (int(segs.starts[s["sentence"]]), int(segs.ends[s["sentence"]]))
        assert s["text"] == rec["response"][s["start"] : s["end"]]
        assert s["correct"] == rec["correct"] and s["question_id"] == rec["question_id"]
        n = s["num_sentences"]
        assert s["position"] == pytest.approx(s["sentence"] / (n - 1) if n > 1 else 0.0)
        p = {}
        for role in ("teacher", "student", "distilled"):
            sums, counts = naive[role][s["id"]]
            assert s[f"{role}_num_tokens"] == counts[s["sentence"]]
            assert s[f"{role}_sum_logprob"] == pytest.approx(sums[s["sentence"]], rel=1e-4, abs=1e-3)
            if counts[s["sentence"]] == 0:
                assert s[f"{role}_prob"] is None
                p[role] = math.nan
            else:
                p[role] = s[f"{role}_prob"]
                assert p[role] == pytest.approx(
                    math.exp(sums[s["sentence"]] / counts[s["sentence"]]), rel=1e-3
                )
        assert s["label"] == reference_label(p["teacher"], p["student"], p["distilled"], ALPHA, BETA)
        labels.add(s["label"])
    assert {"shared", "teacher", "student", "boosted"} <= labels  # the thresholds exercise every rule


def test_records_count_the_sentence_labels(traced, models):
    tmp, recs, result = traced
    sentences = table(tmp / "out", "sentences")
    records = {r["id"]: r for r in table(tmp / "out", "records")}
    assert set(records) == {r["id"] for r in recs}
    totals = dict.fromkeys(("shared", "teacher", "student", "boosted", "unscored"), 0)
    for rid, rec in records.items():
        mine = [s for s in sentences if s["id"] == rid and s["kind"] != "marker"]
        for label in totals:
            n = sum(s["label"] == label for s in mine)
            assert rec[f"n_{label}"] == n
            totals[label] += n
        labelled = sum(s["label"] != "unscored" for s in mine)
        assert rec["num_labelled"] == labelled
        assert rec["share_teacher"] == pytest.approx(rec["n_teacher"] / labelled)
        assert json.loads(rec["fields"]) == {"extra": 7}
    assert result.label_counts == totals
    info = json.loads((tmp / "out" / "run.json").read_text())
    assert info["complete"] and info["kind"] == "trace" and info["beta"] == BETA
    assert info["settings"]["models"]["distilled"]["model"] == str(models["distilled"])
    assert info["models"]["teacher"]["name"] == models["teacher"].name
    assert info["models"]["distilled"]["dtype"] == "torch.float32"
    assert info["version"] == rdpt_fast.__version__
    assert set(info["timings"]["passes"]) == {"teacher", "student", "distilled"}


def test_classify_relabels_without_any_model(traced, tmp_path):
    src, _, _ = traced
    out = tmp_path / "copy"
    shutil.copytree(src / "out", out)
    result = rdpt_fast.classify_folder(out, alpha=1e-4, beta=5e-4)  # runs no model: only the folder is read
    sentences = table(out, "sentences")
    for s in sentences:
        p = [
            math.nan if s[f"{r}_prob"] is None else s[f"{r}_prob"]
            for r in ("teacher", "student", "distilled")
        ]
        assert s["label"] == reference_label(*p, 1e-4, 5e-4)
    records = table(out, "records")
    assert sum(r["n_teacher"] for r in records) == sum(
        s["label"] == "teacher" for s in sentences if s["kind"] != "marker"
    )
    info = json.loads((out / "run.json").read_text())
    assert (info["alpha"], info["beta"]) == (1e-4, 5e-4) and result.beta == 5e-4
    auto = rdpt_fast.classify_folder(out, beta="auto")
    d_ts = np.asarray([s["d_ts"] for s in sentences if s["kind"] != "marker" and s["d_ts"] is not None])
    # random tiny models: every |d_TS| falls in the first of the 1000 bins, so the Otsu objective is flat and
    # the documented fallback (0.1, flagged degenerate) applies
    assert np.abs(d_ts).max() < 1e-3
    assert auto.adaptive.degenerate and auto.beta == 0.1
    assert json.loads((out / "run.json").read_text())["adaptive"]["rule"] == "otsu-abs-dts"


def test_parallel_devices_give_the_same_rows(traced, models, tmp_path):
    src, _, _ = traced
    result = run_trace(models, src / "in.jsonl", tmp_path / "par", devices="cpu,cpu,cpu")
    a = {(s["id"], s["sentence"]): s for s in table(src / "out", "sentences")}
    b = {(s["id"], s["sentence"]): s for s in table(tmp_path / "par", "sentences")}
    assert a.keys() == b.keys()
    for key, s in a.items():
        assert b[key]["label"] == s["label"]
        assert b[key]["distilled_sum_logprob"] == pytest.approx(
            s["distilled_sum_logprob"], rel=1e-5, abs=1e-4
        )
    assert result.records == 7


def test_rerun_resumes_and_other_settings_are_refused(traced, models):
    src, _, first = traced
    again = run_trace(models, src / "in.jsonl", src / "out", text=True)
    assert again.passes == {}  # every shard was complete: no model was loaded
    assert again.label_counts == first.label_counts
    with pytest.raises(ValueError, match=r"other settings .*chunk_records"):
        run_trace(models, src / "in.jsonl", src / "out", text=True, chunk_records=4)


def test_cli_trace_classify_report(traced, models, tmp_path, capsys):
    from rdpt_fast.cli.main import main

    src, _, _ = traced
    out = tmp_path / "cli"
    args = ["trace", "--teacher", str(models["teacher"]), "--student", str(models["student"])]
    args += ["--distilled", str(models["distilled"]), "--input", str(src / "in.jsonl"), "-o", str(out)]
    args += ["--template", "none", "--alpha", str(ALPHA), "--beta", "auto", "--quiet"]
    assert main(args) == 1  # the corpus has 4 bad lines: exit 1, with the reasons counted
    assert "4 rejected by stage and field (input: 1, input id: 1, input response: 1, input correct: 1)" in (
        capsys.readouterr().err
    )
    info = json.loads((out / "run.json").read_text())
    assert info["beta_mode"] == "auto"
    assert info["adaptive"]["beta"] == info["beta"]
    assert main(["classify", str(out), "--beta", "0.001"]) == 0
    assert "rdpt-fast classify: 7 records" in capsys.readouterr().err
    assert json.loads((out / "run.json").read_text())["beta"] == 0.001
    assert main(["report", str(out)]) == 0
    html = (out / "report" / "report.html").read_text()
    assert "data:image/png;base64," in html
    assert main(["classify", str(tmp_path / "missing")]) == 2


def test_a_folder_another_run_is_writing_is_refused(traced, models, tmp_path):
    from rdpt_fast.engine.folder import RunFolder

    src, _, _ = traced
    other = RunFolder(tmp_path / "busy")
    other.acquire()  # stands for a second process (flock: a new open file conflicts even in-process)
    with pytest.raises(ValueError, match="another rdpt-fast run is writing"):
        run_trace(models, src / "in.jsonl", tmp_path / "busy")
    other.release()
    with pytest.raises(ValueError, match="another rdpt-fast run is writing"):
        held = RunFolder(src / "out")
        held.acquire()
        try:
            rdpt_fast.classify_folder(src / "out", beta=0.2)
        finally:
            held.release()
