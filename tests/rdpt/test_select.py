"""`select` where the answer is known by construction: the teacher's log-probs are precomputed so that
chosen sentences are certain under the teacher (p_T = 1) and the rest nearly impossible (p_T ~ 0)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch
from scoring.naive import naive_scores, sentence_of
from transformers import AutoModelForCausalLM, AutoTokenizer

import rdpt_fast
from rdpt_fast.cli.main import main

from .conftest import write_jsonl

TEACHERISH = [f"Teacher step {w} is checked carefully." for w in ("one", "two", "three", "four", "five")]
PLAIN = [f"Plain note {w} here." for w in ("alpha", "beta", "gamma", "delta", "epsilon", "zeta")]

# question -> candidates as (teacher-like sentences, plain sentences); by construction per question:
# most teacher sentences: c0, fewest: c1, highest teacher ratio: c2, most tokens: c3
DESIGN = {
    "q0": [(4, 2), (0, 2), (2, 0), (3, 6)],
    "q1": [(3, 1), (1, 3), (2, 0), (2, 6)],
}


def build_candidates(tokenizer) -> list[dict]:
    recs = []
    for qid, candidates in DESIGN.items():
        for c, (n_teacher, n_plain) in enumerate(candidates):
            sentences = TEACHERISH[:n_teacher] + PLAIN[:n_plain]
            sentences = sentences[1::2] + sentences[0::2]  # interleave the kinds a little
            response = " ".join(sentences)
            spans, at = [], 0
            for s in sentences:
                spans.append((at, at + len(s) + 1 if at + len(s) < len(response) else at + len(s)))
                at += len(s) + 1
            enc = tokenizer(response, add_special_tokens=False, return_offsets_mapping=True)
            owner = sentence_of(enc["offset_mapping"], [a for a, _ in spans], [b for _, b in spans], response)
            logprobs = [0.0 if sentences[o].startswith("Teacher") else -40.0 for o in owner]
            recs.append(
                {
                    "id": f"{qid}-c{c}",
                    "question_id": qid,
                    "prompt": f"Solve problem {qid}.",
                    "response": response,
                    "token_ids": enc["input_ids"],
                    "teacher_lp": logprobs,
                    "source": "synthetic",
                }
            )
    return recs


@pytest.fixture(scope="module")
def candidates(models, tmp_path_factory) -> tuple[Path, list[dict]]:
    tmp = tmp_path_factory.mktemp("select")
    tok = AutoTokenizer.from_pretrained(models["teacher"])
    recs = build_candidates(tok)
    for r in recs:  # construction check: our sentence spans are the segmenter's
        assert len(rdpt_fast.segment(r["response"])) == sum(DESIGN[r["question_id"]][int(r["id"][-1])])
    bad = {3: json.dumps({"id": "no-question", "prompt": "p", "response": "r."})}
    return write_jsonl(tmp / "candidates.jsonl", recs, bad), recs


def run_select(models, inp: Path, out: Path, strategy: str, **kw):
    return rdpt_fast.select(
        models["teacher"],
        models["student"],
        inp,
        out,
        strategy=strategy,
        teacher_logprobs="teacher_lp",
        template=None,
        chunk_records=3,
        beta=0.5,
        quiet=True,
        **kw,
    )


def chosen(result) -> dict[str, str]:
    rows = result.selection.table.to_pylist()
    return {r["question_id"]: r["id"] for r in rows if r["selected"]}


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        ("max-teacher-count", {"q0": "q0-c0", "q1": "q1-c0"}),
        ("min-teacher-count", {"q0": "q0-c1", "q1": "q1-c1"}),
        ("max-teacher-ratio", {"q0": "q0-c2", "q1": "q1-c2"}),
        ("longest", {"q0": "q0-c3", "q1": "q1-c3"}),
    ],
)
def test_strategies_known_by_construction(models, candidates, tmp_path, strategy, expected):
    inp, recs = candidates
    result = run_select(models, inp, tmp_path / strategy, strategy)
    assert chosen(result) == expected
    counts = {r["id"]: r["n_teacher"] for r in result.selection.table.to_pylist()}
    assert counts == {r["id"]: DESIGN[r["question_id"]][int(r["id"][-1])][0] for r in recs}


def test_random_is_seeded_and_order_free(models, candidates, tmp_path):
    inp, recs = candidates
    got = chosen(run_select(models, inp, tmp_path / "r", "random", seed=11))

    def key(rid: str) -> float:  # blake2b of (seed, id), as documented
        return int.from_bytes(hashlib.blake2b(f"11\x00{rid}".encode(), digest_size=8).digest(), "little")

    expected = {q: max((r["id"] for r in recs if r["question_id"] == q), key=key) for q in DESIGN}
    assert got == expected
    shuffled = write_jsonl(tmp_path / "shuffled.jsonl", list(reversed(recs)))
    assert chosen(run_select(models, shuffled, tmp_path / "r2", "random", seed=11)) == expected


def test_max_student_likelihood_matches_naive_student(models, candidates, tmp_path):
    inp, recs = candidates
    got = chosen(run_select(models, inp, tmp_path / "g", "max-student-likelihood"))
    model = AutoModelForCausalLM.from_pretrained(models["student"], dtype=torch.float32).eval()
    tok = AutoTokenizer.from_pretrained(models["student"])
    mean = {}
    for r in recs:
        _, sums, counts = naive_scores(model, tok, r["prompt"], r["response"], add_special_tokens=True)
        mean[r["id"]] = sums.sum() / counts.sum()
    expected = {q: max((r["id"] for r in recs if r["question_id"] == q), key=mean.get) for q in DESIGN}
    assert got == expected


def test_outputs_keep_every_field_and_rank_all_candidates(models, candidates, tmp_path):
    inp, recs = candidates
    out = tmp_path / "k2"
    result = run_select(models, inp, out, "max-teacher-count", keep=2)
    assert result.num_selected == 4
    selected = [json.loads(line) for line in (out / "selected.jsonl").read_text().splitlines()]
    assert [s["id"] for s in selected] == ["q0-c0", "q0-c3", "q1-c0", "q1-c2"]  # input order; q1 tie -> c2
    by_id = {r["id"]: r for r in recs}
    for s in selected:
        stats = s.pop("rdpt_selection")
        assert s == by_id[s["id"]]  # every original field, unchanged
        assert stats["rank"] in (1, 2) and stats["strategy"] == "max-teacher-count"
    parquet = pq.read_table(out / "selected.parquet").to_pylist()
    assert [p["id"] for p in parquet] == [s["id"] for s in selected]
    assert parquet[0]["teacher_lp"] == by_id["q0-c0"]["teacher_lp"]
    questions = pq.read_table(out / "questions.parquet").to_pylist()
    assert len(questions) == len(recs)
    ranks = {q["id"]: q["rank"] for q in questions}
    assert ranks["q0-c0"] == 1 and ranks["q0-c1"] == 4
    rejects = [json.loads(line) for line in (out / "rejects.jsonl").read_text().splitlines()]
    assert [(r["location"].rsplit(":", 1)[1], r["field"]) for r in rejects] == [("4", "question_id")]
    sentences = pq.read_table(out / "sentences").to_pylist()
    assert {s["label"] for s in sentences} == {"teacher", "common"}
    assert np.isclose(
        sum(s["teacher_prob"] for s in sentences if s["label"] == "teacher"),
        sum(1 for s in sentences if s["label"] == "teacher"),
    )


def test_cli_select_then_report(models, candidates, tmp_path):
    inp, _ = candidates
    out = tmp_path / "cli"
    args = ["select", "--teacher", str(models["teacher"]), "--student", str(models["student"])]
    args += ["--input", str(inp), "--output", str(out), "--teacher-logprobs", "teacher_lp"]
    args += ["--template", "none", "--beta", "0.5", "--quiet"]
    assert main(args) == 1  # the candidate without a question_id is rejected: exit 1
    assert '"id": "no-question", "field": "question_id"' in (out / "rejects.jsonl").read_text()
    assert (out / "selected.jsonl").exists()
    assert main(["report", str(out)]) == 0
    assert (out / "report" / "report.html").exists()
    with pytest.raises(SystemExit):
        main([*args, "--strategy", "nope"])
