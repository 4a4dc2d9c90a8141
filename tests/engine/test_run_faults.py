"""Faults around a run, each handled by name: a damaged journal or run.json, a shard that does not open
after a power loss, shards fsynced before their rename, model paths checked before any pass, an output
folder that cannot be written, the exit-code policy, quiet runs, the fields of users' files."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import rdpt_fast
from rdpt_fast.cli.main import main
from rdpt_fast.progress import Progress
from rdpt_fast.writers import open_rows

RESPONSE = "We add the numbers. The sum is 5. Then we check it. DONE."


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return write_jsonl(
        tmp_path / "in.jsonl", [{"id": f"r{i}", "prompt": "Q?", "response": RESPONSE} for i in range(3)]
    )


def score_args(model: Path, inp: Path, out: Path, *extra: str) -> list[str]:
    return ["score", "--model", str(model), "--input", str(inp), "-o", str(out), "--template", "none", *extra]


def test_a_damaged_journal_line_is_named_a_torn_last_line_is_not(qwen_dir, corpus, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(score_args(qwen_dir, corpus, out, "-q")) == 0
    journal = out / "manifest.jsonl"
    good = journal.read_bytes()
    journal.write_bytes(good + b'{"stage": "join", "chu')  # a kill while appending: ignored, repaired
    assert main(score_args(qwen_dir, corpus, out, "-q")) == 0
    assert journal.read_bytes().endswith(b"\n")
    for damage in (b"7\n", b'{"stage": "join"}\n', b'{"stage": "x\xff"}\n'):
        lines = good.split(b"\n")
        journal.write_bytes(b"\n".join([lines[0], damage.rstrip(b"\n"), *lines[1:]]))
        assert main(score_args(qwen_dir, corpus, out, "-q")) == 2
        err = capsys.readouterr().err
        assert f"{journal}:2: damaged manifest entry" in err and "Traceback" not in err
    journal.write_bytes(good)
    (out / "run.json").write_text('{"kind": "sco', encoding="utf-8")
    assert main(score_args(qwen_dir, corpus, out, "-q")) == 2
    assert f"{out / 'run.json'} is damaged" in capsys.readouterr().err


def test_a_journaled_shard_that_does_not_open_is_redone(qwen_dir, corpus, tmp_path, caplog):
    out = tmp_path / "out"
    rdpt_fast.score(qwen_dir, corpus, out, template=None, quiet=True)
    before = pq.read_table(out / "sentences").to_pylist()
    shard = out / "sentences" / "part-00000.parquet"
    shard.write_bytes(shard.read_bytes()[:100])  # as a power loss leaves a file renamed before its data
    with caplog.at_level("WARNING", logger="rdpt_fast"):
        rdpt_fast.score(qwen_dir, corpus, out, template=None, quiet=True)
    assert f"{shard} does not open" in caplog.text
    assert pq.read_table(out / "sentences").to_pylist() == before


def test_shards_reach_the_disk_before_their_name(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (events.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda a, b: (events.append("replace"), real_replace(a, b))[1])
    with open_rows(tmp_path / "t.jsonl") as w:
        w.write([{"a": 1}])
    assert events == ["fsync", "replace", "fsync"]  # the file, the rename, the folder


def test_model_paths_are_checked_before_any_pass(qwen_dir, corpus, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(score_args(tmp_path / "no" / "such" / "model", corpus, out)) == 2
    assert "--model" in capsys.readouterr().err and not out.exists()
    pickled = tmp_path / "pickled"
    shutil.copytree(qwen_dir, pickled)
    for weights in pickled.glob("*.safetensors"):
        weights.rename(pickled / "pytorch_model.bin")
    assert main(score_args(pickled, corpus, out)) == 2
    err = capsys.readouterr().err
    assert "no safetensors weights" in err and "convert them to safetensors" in err
    assert len(err.strip().splitlines()) == 1
    args = ["trace", "--teacher", str(qwen_dir), "--student", str(qwen_dir), "--distilled", "typo/x/y"]
    assert main([*args, "--input", str(corpus), "-o", str(out), "--template", "none"]) == 2
    assert "--distilled typo/x/y: no such model directory" in capsys.readouterr().err
    assert not out.exists()  # nothing ran, nothing was written


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_output_folder_is_named(qwen_dir, corpus, tmp_path, capsys):
    out = tmp_path / "ro"
    out.mkdir()
    out.chmod(0o500)
    try:
        assert main(score_args(qwen_dir, corpus, out / "run")) == 2
        assert str(out / "run") in capsys.readouterr().err
    finally:
        out.chmod(0o700)


def test_an_unwritable_output_path_is_named(qwen_dir, corpus, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert main(score_args(qwen_dir, corpus, blocker / "run")) == 2
    err = capsys.readouterr().err
    assert str(blocker) in err and "Traceback" not in err


def test_every_record_rejected_is_exit_1_with_reasons(qwen_dir, qwen_b_dir, llama_dir, tmp_path, capsys):
    inp = write_jsonl(
        tmp_path / "in.jsonl", [{"id": f"r{i}", "prompt": "Q", "text": RESPONSE} for i in range(3)]
    )
    args = ["trace", "--teacher", str(qwen_dir), "--student", str(qwen_b_dir), "--distilled", str(llama_dir)]
    assert main([*args, "--input", str(inp), "-o", str(tmp_path / "t"), "--template", "none", "-q"]) == 1
    err = capsys.readouterr().err
    assert "3 rejected by stage and field (input response: 3)" in err
    # the field has another name in these files: say so
    args += ["--response-field", "text"]
    assert main([*args, "--input", str(inp), "-o", str(tmp_path / "t2"), "--template", "none", "-q"]) == 0


def test_quiet_prints_no_progress_and_no_loading_bars(qwen_dir, corpus, tmp_path, capfd):
    assert main(score_args(qwen_dir, corpus, tmp_path / "out", "-q")) == 0
    err = capfd.readouterr().err
    assert "Loading weights" not in err and "tokens/s" not in err and "records |" not in err
    assert err.startswith("rdpt-fast score: 3 scored")


def test_limit_generated_ids_and_max_length(qwen_dir, tmp_path):
    rows = [{"prompt": "Q?", "response": RESPONSE}, {"prompt": "Q?", "response": RESPONSE * 40}]
    inp = write_jsonl(tmp_path / "in.jsonl", rows * 2)
    result = rdpt_fast.score(
        qwen_dir, inp, tmp_path / "a", template=None, quiet=True, generate_ids=True, limit=3, max_length=64
    )
    assert result.records == 2 and result.rejected == 1  # the long one of the first three
    ids = {r["id"] for r in pq.read_table(tmp_path / "a" / "sentences").to_pylist()}
    assert ids == {f"{inp}:1", f"{inp}:3"}
    reject = json.loads((tmp_path / "a" / "rejects.jsonl").read_text())
    assert reject["id"] == f"{inp}:2" and "longer than the limit of 64 tokens" in reject["error"]


def test_no_eta_before_a_tenth_of_the_records():
    p = Progress("x", 100, quiet=True)
    p.records = 5
    assert "ETA" not in p.line(10.0)
    p.records = 20
    assert "ETA 0:00:40" in p.line(10.0)


def test_degenerate_adaptive_beta_says_so(tmp_path):
    import io

    import numpy as np

    from rdpt_fast.cli.summary import print_summary
    from rdpt_fast.engine.result import RunResult
    from rdpt_fast.rdpt.adaptive import adaptive_beta

    flat = adaptive_beta(counts=np.zeros(1000, dtype=np.int64) + (np.arange(1000) == 0))
    assert flat.degenerate
    result = RunResult(tmp_path, "select", None, flat.beta, flat, 1, 1, 0, {"common": 1, "unscored": 0}, 0.0)
    stream = io.StringIO()
    print_summary(result, "classify", stream)
    assert "fell back to the default" in stream.getvalue() and "rdpt-fast classify:" in stream.getvalue()
