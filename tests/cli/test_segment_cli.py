"""`rdpt-fast segment`: stdin, corpora in every format, bad records, atomic output."""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rdpt_fast.cli.main import main

TRACE = "<think>\nFirst. Second?\n</think>\nAnswer: $x = 1.$ Done."


def run_cli(args: list[str], stdin: str, monkeypatch, capsys) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    rc = main(args)
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_stdin_json(monkeypatch, capsys) -> None:
    rc, out, _ = run_cli(["segment"], TRACE, monkeypatch, capsys)
    assert rc == 0
    row = json.loads(out)
    pieces = [TRACE[s:e] for s, e in zip(row["starts"], row["ends"])]
    assert pieces == ["<think>\n", "First. ", "Second?\n", "</think>\n", "Answer: $x = 1.$ Done."]
    assert row["kinds"] == ["marker", "text", "text", "marker", "text"]


def test_stdin_show(monkeypatch, capsys) -> None:
    rc, out, _ = run_cli(["segment", "--show", "--rules", "simple"], "A. B", monkeypatch, capsys)
    assert rc == 0
    assert out.splitlines() == ['   0 text   [0, 3) "A. "', '   1 text   [3, 4) "B"']


@pytest.mark.parametrize(("rules", "count"), [("reasoning", 2), ("reasoning-v2", 2), ("reasoning-v1", 1)])
def test_rules_versions(rules: str, count: int, monkeypatch, capsys) -> None:
    rc, out, _ = run_cli(["segment", "--rules", rules], "It costs $1.50. Then $2 more.", monkeypatch, capsys)
    assert rc == 0
    assert json.loads(out)["num_segments"] == count


@pytest.mark.parametrize("flag", [["--threads", "-1"], ["--min-chars", "-2"]])
def test_negative_counts_are_refused(flag: list[str], monkeypatch, capsys) -> None:
    rc, out, err = run_cli(["segment", *flag], "A. B", monkeypatch, capsys)
    assert rc == 2 and not out
    assert "--threads and --min-chars must be >= 0" in err


def write_jsonl(path: Path, lines: list[str], compress: bool = False) -> None:
    data = "".join(line + "\n" for line in lines)
    if compress:
        with gzip.open(path, "wt", encoding="utf-8") as f:
            f.write(data)
    else:
        path.write_text(data, encoding="utf-8")


def test_corpus_with_bad_records(tmp_path: Path, monkeypatch, capsys) -> None:
    src = tmp_path / "in.jsonl.gz"
    write_jsonl(
        src,
        [
            json.dumps({"id": "a", "response": "One. Two."}),
            "{not json",
            json.dumps({"id": "b", "text": "no response field"}),
            json.dumps({"id": "c", "response": 42}),
            json.dumps({"id": "d", "response": "bad \ud800 surrogate"}),
            json.dumps(["a list"]),
            "",
            json.dumps({"id": 7, "response": "Last one.", "extra": [1, 2]}),
        ],
        compress=True,
    )
    out, rejects = tmp_path / "spans.jsonl", tmp_path / "rejects.jsonl"
    rc, _, err = run_cli(
        ["segment", "--input", str(src), "-o", str(out), "--rejects", str(rejects), "--with-text"],
        "",
        monkeypatch,
        capsys,
    )
    assert rc == 1
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["a", "7"]
    assert rows[0]["texts"] == ["One. ", "Two."]
    assert f"{src}:2: invalid JSON" in err
    assert f"{src}:3, id='b', field 'response': missing" in err
    assert "id='c', field 'response': must be a string, not int" in err
    assert "id='d', field 'response': unpaired surrogate at code point 4" in err
    assert f"{src}:6: expected a JSON object, got list" in err
    assert "2 of 7 records segmented" in err
    rejected = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert [r["location"] for r in rejected] == [f"{src}:{n}" for n in (2, 3, 4, 5, 6)]
    assert not list(tmp_path.glob(".*tmp*"))


def test_parquet_in_and_out(tmp_path: Path, monkeypatch, capsys) -> None:
    src = tmp_path / "in.parquet"
    pq.write_table(pa.table({"qid": ["x", "y"], "answer": ["Hi. There.", "好。然后"]}), src)
    out = tmp_path / "spans.parquet"
    args = ["segment", "--input", str(src), "--field", "answer", "--id-field", "qid", "-o", str(out)]
    rc, _, _ = run_cli(args, "", monkeypatch, capsys)
    assert rc == 0
    table = pq.read_table(out).to_pylist()
    assert [r["id"] for r in table] == ["x", "y"]
    assert table[0]["starts"] == [0, 4] and table[0]["ends"] == [4, 10]
    assert table[1]["kinds"] == ["text", "text"]


def test_missing_input_file_is_a_clear_error(tmp_path: Path, monkeypatch, capsys) -> None:
    rc, _, err = run_cli(["segment", "--input", str(tmp_path / "nope.jsonl")], "", monkeypatch, capsys)
    assert rc == 2
    assert "nope.jsonl: no such input file" in err
    rc, _, err = run_cli(["segment", "--input", str(tmp_path / "x.csv")], "", monkeypatch, capsys)
    assert rc == 2 and "unknown input format" in err


def test_failed_run_leaves_no_output(tmp_path: Path, monkeypatch, capsys) -> None:
    good = tmp_path / "good.jsonl"
    write_jsonl(good, [json.dumps({"id": "a", "response": "One."})])
    out = tmp_path / "spans.jsonl"
    rc, _, _ = run_cli(
        ["segment", "--input", str(good), str(tmp_path / "missing.jsonl"), "-o", str(out)],
        "",
        monkeypatch,
        capsys,
    )
    assert rc == 2
    assert not out.exists()
    assert not list(tmp_path.glob(".*tmp*"))


def test_console_script(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "rdpt_fast.cli.main", "segment", "--show"],
        input="Wait... Let me check.",
        capture_output=True,
        text=True,
        check=True,
    )
    assert proc.stdout.splitlines()[1].endswith('"Let me check."')


@pytest.mark.parametrize("flag", [["--pattern", ";"], ["--markers", "<s>"], ["--min-chars", "4"]])
def test_options_reach_the_segmenter(flag: list[str], monkeypatch, capsys) -> None:
    rc, out, _ = run_cli(["segment", *flag], "<s>a; b. Cc. Dd", monkeypatch, capsys)
    assert rc == 0
    assert len(json.loads(out)["starts"]) >= 2


def test_closed_pipe_is_not_an_error(tmp_path: Path) -> None:
    text = tmp_path / "long.txt"
    text.write_text("One sentence here. " * 50_000)
    proc = subprocess.run(
        f"{sys.executable} -m rdpt_fast.cli.main segment --show < {text} | head -n 1",
        shell=True,
        capture_output=True,
        text=True,
        check=True,
    )
    assert proc.stdout.startswith("   0 text")
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr
