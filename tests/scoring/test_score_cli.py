"""`rdpt-fast score`: per-sentence Parquet shards, a rejects file, resume without loss or duplicates."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from rdpt_fast.cli.main import main
from rdpt_fast.scoring import Scorer


def write_jsonl(path: Path, rows: list) -> None:
    path.write_text(
        "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8"
    )


def read_scores(out: Path):
    shards = sorted(out.glob("scores-*.parquet"))
    return [row for s in shards for row in pq.read_table(s).to_pylist()], shards


def test_score_cli_writes_resumes_and_rejects(qwen_dir, records, tmp_path, capsys):
    recs = [dict(r, id=f"r{i}", response=r["response"][:400]) for i, r in enumerate(records[:5])]
    inp = tmp_path / "in.jsonl"
    write_jsonl(inp, [recs[0], recs[1], "{not json", {"id": "e", "prompt": "Q", "response": ""}, recs[2]])
    out = tmp_path / "out"
    args = [
        "score",
        "--model",
        str(qwen_dir),
        "--input",
        str(inp),
        "--output",
        str(out),
        "--template",
        "none",
    ]
    assert main([*args, "--shard-records", "2", "--device", "cpu"]) == 1
    err = capsys.readouterr().err
    assert "tokens/s" in err and "3 scored, 2 rejected" in err
    rows, shards = read_scores(out)
    assert len(shards) == 2
    rejects = [json.loads(line) for line in (out / "rejects.jsonl").read_text().splitlines()]
    assert {r["id"] for r in rejects} == {None, "e"} and any("invalid JSON" in r["error"] for r in rejects)
    assert pq.read_schema(shards[0]).field("sum_logprob").type == "double"

    expected = list(Scorer(str(qwen_dir), template=None).score(recs[:3]))
    for res in expected:
        mine = [r for r in rows if r["id"] == res.id]
        assert [r["sentence"] for r in mine] == list(range(len(res.segments)))
        assert [(r["start"], r["end"], r["kind"]) for r in mine] == [tuple(s) for s in res.segments]
        np.testing.assert_allclose([r["sum_logprob"] for r in mine], res.sum_logprob, rtol=0, atol=1e-4)
        assert [r["num_tokens"] for r in mine] == res.num_tokens.tolist()
        assert [r["prob"] is None for r in mine] == [n == 0 for n in res.num_tokens.tolist()]
        assert all(r["model"] == qwen_dir.name for r in mine)

    # rerun on a longer input: only the new records are scored, nothing is duplicated
    write_jsonl(inp, recs)
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "2 scored, 0 rejected, 3 already done" in err
    rows2, shards2 = read_scores(out)
    assert len(shards2) == 3
    assert sorted({r["id"] for r in rows2}) == [f"r{i}" for i in range(5)]
    assert len(rows2) == len({(r["id"], r["sentence"]) for r in rows2})
    assert not list(out.glob(".*tmp*"))


def test_template_argument(tmp_path):
    import pytest

    from rdpt_fast.cli.options import template_arg

    assert template_arg("auto") == "auto" and template_arg("none") is None
    assert template_arg("{{ messages[0]['content'] }}") == "{{ messages[0]['content'] }}"
    f = tmp_path / "t.jinja"
    f.write_text("{% for m in messages %}{{ m.content }}{% endfor %}")
    assert template_arg(str(f)).startswith("{% for")
    with pytest.raises(FileNotFoundError):
        template_arg(str(tmp_path / "missing.jinja"))
