"""`rdpt-fast score` as a one-role run of the engine: the flat per-sentence table equals the Scorer's
scores, rejects name the line, a rerun resumes, and the folder refuses what would mix runs: a second writer,
another model, other settings, another kind of run; a kill -9 and a rerun give each row once."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from killing import kill_when, marked

import rdpt_fast
from rdpt_fast.cli.main import main
from rdpt_fast.engine.folder import RunFolder
from rdpt_fast.scoring import Scorer


def write_jsonl(path: Path, rows: list) -> Path:
    path.write_text(
        "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8"
    )
    return path


def sentence_rows(out: Path) -> list[dict]:
    return pq.read_table(out / "sentences").to_pylist()  # the folder reads as one dataset


def score_args(model: Path, inp: Path, out: Path) -> list[str]:
    return ["score", "--model", str(model), "--input", str(inp), "--output", str(out), "--template", "none"]


@pytest.fixture(scope="module")
def recs(records) -> list[dict]:
    return [dict(r, id=f"r{i}", response=r["response"][:400]) for i, r in enumerate(records[:5])]


def test_score_writes_the_scorers_numbers_rejects_and_resumes(qwen_dir, recs, tmp_path, capsys):
    inp = write_jsonl(
        tmp_path / "in.jsonl",
        [recs[0], recs[1], "{not json", {"id": "e", "prompt": "Q", "response": ""}, recs[2]],
    )
    out = tmp_path / "out"
    args = score_args(qwen_dir, inp, out)
    assert main([*args, "--shard-records", "2", "--device", "cpu", "--text"]) == 1
    err = capsys.readouterr().err
    assert "tokens/s" in err and "3 scored, 2 rejected, 0 already done" in err
    assert "in.jsonl:3" in err and "invalid JSON" in err  # rejects are printed with their line
    rows = sentence_rows(out)
    assert len(list((out / "sentences").glob("part-*.parquet"))) == 2
    rejects = [json.loads(line) for line in (out / "rejects.jsonl").read_text().splitlines()]
    assert {(r["id"], r["field"]) for r in rejects} == {(None, None), ("e", "response")}
    assert pq.read_schema(out / "sentences" / "part-00000.parquet").field("sum_logprob").type == "double"

    expected = list(Scorer(str(qwen_dir), template=None).score(recs[:3]))
    for res in expected:
        mine = [r for r in rows if r["id"] == res.id]
        assert [r["sentence"] for r in mine] == list(range(len(res.segments)))
        assert [(r["start"], r["end"], r["kind"]) for r in mine] == [tuple(s) for s in res.segments]
        assert [r["text"] for r in mine] == res.segments.texts(recs[int(res.id[1])]["response"])
        np.testing.assert_allclose([r["sum_logprob"] for r in mine], res.sum_logprob, rtol=0, atol=1e-4)
        assert [r["num_tokens"] for r in mine] == res.num_tokens.tolist()
        assert [r["prob"] is None for r in mine] == [n == 0 for n in res.num_tokens.tolist()]
        assert all(r["model"] == qwen_dir.name for r in mine)

    # the same command again: nothing is scored twice, the rows are unchanged
    assert main([*args, "--shard-records", "2", "--device", "cpu", "--text"]) == 1
    assert "0 scored, 2 rejected, 3 already done" in capsys.readouterr().err
    assert sentence_rows(out) == rows
    # a longer input is another run: refused, the folder untouched
    write_jsonl(inp, recs)
    assert main([*args, "--shard-records", "2", "--device", "cpu", "--text"]) == 2
    assert "other settings (inputs" in capsys.readouterr().err
    assert sentence_rows(out) == rows
    assert not list(out.rglob(".*tmp*"))


def test_score_with_another_model_or_settings_is_refused(qwen_dir, llama_dir, recs, tmp_path, capsys):
    inp = write_jsonl(tmp_path / "in.jsonl", recs[:2])
    out = tmp_path / "out"
    assert main(score_args(qwen_dir, inp, out)) == 0
    rows = sentence_rows(out)
    assert main(score_args(llama_dir, inp, out)) == 2
    assert "other settings (models" in capsys.readouterr().err
    assert main([*score_args(qwen_dir, inp, out), "--mode", "reference"]) == 2
    assert "other settings (mode" in capsys.readouterr().err
    assert sentence_rows(out) == rows  # never the other model's rows, never mixed
    assert main([*score_args(llama_dir, inp, out), "--overwrite"]) == 0
    assert {r["model"] for r in sentence_rows(out)} == {llama_dir.name}


def test_a_second_writer_is_refused(qwen_dir, recs, tmp_path, capsys):
    inp = write_jsonl(tmp_path / "in.jsonl", recs[:2])
    out = tmp_path / "out"
    holder = RunFolder(out)
    holder.acquire()  # as a run in another process holds it
    try:
        assert main(score_args(qwen_dir, inp, out)) == 2
        assert "another rdpt-fast run is writing to this folder" in capsys.readouterr().err
        assert not (out / "sentences").exists()
    finally:
        holder.release()
    assert main(score_args(qwen_dir, inp, out)) == 0


def test_score_and_trace_do_not_share_a_folder(qwen_dir, qwen_b_dir, llama_dir, recs, tmp_path, capsys):
    inp = write_jsonl(tmp_path / "in.jsonl", recs[:2])
    traced = tmp_path / "trace"
    rdpt_fast.trace(qwen_dir, qwen_b_dir, llama_dir, inp, traced, template=None, quiet=True)
    assert main(score_args(qwen_dir, inp, traced)) == 2
    assert "holds a trace run, not a score run" in capsys.readouterr().err
    scored = tmp_path / "score"
    rdpt_fast.score(qwen_dir, inp, scored, template=None, quiet=True)
    with pytest.raises(ValueError, match="holds a score run, not a trace run"):
        rdpt_fast.trace(qwen_dir, qwen_b_dir, llama_dir, inp, scored, template=None, quiet=True)
    with pytest.raises(ValueError, match="has no labels"):
        rdpt_fast.classify_folder(scored, beta=0.2)


def test_sigkill_then_rerun_gives_each_row_once(qwen_dir, records, tmp_path):
    recs = [dict(r, id=f"k{i}", response=r["response"][:300]) for i, r in enumerate(records[:8])]
    inp = write_jsonl(tmp_path / "in.jsonl", recs)
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "rdpt_fast.cli.main", *score_args(qwen_dir, inp, out)]
    cmd += ["--chunk-records", "1", "--device", "cpu", "--quiet"]
    kill_when(cmd, out / "manifest.jsonl", "scores/model")
    assert 0 < len(marked(out / "manifest.jsonl", "scores/model")) < 8
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    rows = sentence_rows(out)
    assert len(rows) == len({(r["id"], r["sentence"]) for r in rows})
    clean = tmp_path / "clean"
    rdpt_fast.score(qwen_dir, inp, clean, template=None, chunk_records=1, devices="cpu", quiet=True)
    expected = {(r["id"], r["sentence"]): r for r in sentence_rows(clean)}
    assert {(r["id"], r["sentence"]) for r in rows} == set(expected)
    for r in rows:
        assert r["num_tokens"] == expected[(r["id"], r["sentence"])]["num_tokens"]
        assert r["sum_logprob"] == pytest.approx(expected[(r["id"], r["sentence"])]["sum_logprob"], abs=1e-4)


def test_template_argument(tmp_path):
    from rdpt_fast.cli.options import template_arg

    assert template_arg("auto") == "auto" and template_arg("none") is None
    assert template_arg("{{ messages[0]['content'] }}") == "{{ messages[0]['content'] }}"
    f = tmp_path / "t.jinja"
    f.write_text("{% for m in messages %}{{ m.content }}{% endfor %}")
    assert template_arg(str(f)).startswith("{% for")
    with pytest.raises(FileNotFoundError):
        template_arg(str(tmp_path / "missing.jinja"))


def test_the_segmentation_version_is_recorded_and_binds_the_folder(qwen_dir, recs, tmp_path):
    inp = write_jsonl(tmp_path / "in.jsonl", recs[:1])
    out = tmp_path / "out"
    rdpt_fast.score(qwen_dir, inp, out, template=None, quiet=True, segment_options={"rules": "reasoning-v1"})
    assert json.loads((out / "run.json").read_text())["settings"]["segmentation"] == "reasoning-v1"
    with pytest.raises(ValueError, match="other settings"):  # v2 sentences would mix with v1 ones
        rdpt_fast.score(qwen_dir, inp, out, template=None, quiet=True)
    fresh = tmp_path / "fresh"
    rdpt_fast.score(qwen_dir, inp, fresh, template=None, quiet=True)
    assert json.loads((fresh / "run.json").read_text())["settings"]["segmentation"] == "reasoning-v2"
