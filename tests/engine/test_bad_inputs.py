"""The corpus of bad inputs (tests/data/bad, written by make_bad_inputs.py): each damage is one reject naming
the file and the line or row where reading stopped, the records around it are read, and every command runs
over the whole corpus with exit status 1 (some records rejected), never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rdpt_fast.cli.main import main
from rdpt_fast.engine.inputs import InputSpec
from rdpt_fast.records import RecordError, iter_records

BAD = Path(__file__).resolve().parents[1] / "data" / "bad"


def read(name: str) -> tuple[list[str], list[RecordError]]:
    """(ids of the valid records, rejects) of one file of the corpus."""
    rejects: list[RecordError] = []
    ids = [str(r.fields["id"]) for r in InputSpec((BAD / name,)).records(rejects)]
    return ids, rejects


def test_truncated_gzip_keeps_the_records_before_the_cut():
    ids, rejects = read("truncated.jsonl.gz")
    assert 0 < len(ids) < 40 and ids == [f"gz{i}" for i in range(len(ids))]
    (reject,) = rejects
    assert reject.location == f"{BAD / 'truncated.jsonl.gz'}:{len(ids) + 1}"
    assert "damaged or truncated" in reject.message and "EOFError" in reject.message


@pytest.mark.parametrize("name", ["not_gzip.jsonl.gz", "truncated.parquet", "corrupt.parquet"])
def test_a_damaged_file_is_one_reject_naming_it(name):
    ids, rejects = read(name)
    assert ids == []
    (reject,) = rejects
    assert reject.location.startswith(str(BAD / name)) and "damaged or truncated" in reject.message


def test_the_other_files_go_on_after_a_damaged_one():
    items = list(iter_records([BAD / "not_gzip.jsonl.gz", BAD / "bom.jsonl"]))
    assert isinstance(items[0], RecordError)
    assert [item.fields["id"] for item in items[1:]] == ["bom0", "bom1"]


def test_bom_and_bare_cr():
    assert read("bom.jsonl") == (["bom0", "bom1"], [])
    ids, rejects = read("bare_cr.jsonl")
    assert (ids, rejects) == (["cr0", "cr1"], [])  # the CR is whitespace inside line 1, not a line end
    locations = [r.location for r in iter_records([BAD / "bare_cr.jsonl"])]
    assert [loc.rsplit(":", 1)[1] for loc in locations] == ["1", "2"]


def test_invalid_text_is_a_reject_naming_the_field():
    ids, rejects = read("surrogates.jsonl")
    assert ids == ["good0"]
    where = [(r.location.rsplit(":", 1)[1], r.field, r.record_id) for r in rejects]
    assert where == [("1", "id", "x\\ud800"), ("2", "question_id", "byte0"), ("3", "prompt", "p0")]
    assert all("not valid UTF-8 text" in r.message for r in rejects)


def test_json_error_text_reads_well():
    _, (reject,) = read("control_char.jsonl")
    assert reject.message == "invalid JSON (Invalid control character at column 43)"


def test_every_command_runs_over_the_corpus(qwen_dir, qwen_b_dir, llama_dir, tmp_path, capsys):
    inputs = [str(p) for p in sorted(BAD.iterdir()) if p.suffix in (".jsonl", ".gz", ".parquet")]
    common = ["--input", *inputs, "--template", "none", "-q"]
    assert main(["segment", "--input", *inputs, "--output", str(tmp_path / "spans.jsonl")]) == 1
    assert main(["score", "--model", str(qwen_dir), "-o", str(tmp_path / "score"), *common]) == 1
    models = ["--teacher", str(qwen_dir), "--student", str(qwen_b_dir)]
    assert main(["trace", *models, "--distilled", str(llama_dir), "-o", str(tmp_path / "t"), *common]) == 1
    assert main(["select", *models, "-o", str(tmp_path / "s"), *common]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "rejected by stage and field" in err
    for out in ("score", "t", "s"):
        rejects = [json.loads(line) for line in (tmp_path / out / "rejects.jsonl").read_text().splitlines()]
        damaged = {r["location"].rsplit(":", 1)[0] for r in rejects if "damaged" in r["error"]}
        assert {Path(d).name for d in damaged} >= {
            "truncated.jsonl.gz",
            "not_gzip.jsonl.gz",
            "corrupt.parquet",
        }
    scored = {json.loads(line)["id"] for line in (tmp_path / "spans.jsonl").read_text().splitlines()}
    assert {"gz0", "bom0", "cr0", "cr1", "good0"} <= scored
