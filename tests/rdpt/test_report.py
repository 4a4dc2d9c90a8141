"""`rdpt-fast report` on small hand-made trace and select folders (docs/outputs.md).

Expected numbers are computed here by plain loops over the rows the test wrote (with its own copy of the
label rules), never by the report's aggregation, and compared with the tables of report.md.
"""

from __future__ import annotations

import json
import math
import statistics
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rdpt_fast.cli.main import main
from rdpt_fast.rdpt.adaptive import adaptive_beta
from rdpt_fast.rdpt.report import report

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
RUN_ALPHA = RUN_BETA = 0.1

# (id, question_id, correct, selected, [(kind, probabilities per role)]); None = no token (unscored)
TRACE = [
    ("r1", "q1", True, None, [
        ("text", (0.50, 0.50, 0.52)),  # shared
        ("text", (0.90, 0.30, 0.60)),  # teacher
        ("text", (0.20, 0.80, 0.50)),  # student
        ("text", (0.50, 0.45, 0.90)),  # boosted
    ]),
    ("r2", "q1", False, None, [
        ("marker", (0.99, 0.99, 0.99)),  # shared, but a marker
        ("text", (0.70, 0.50, 0.60)),  # teacher; boosted at beta 0.3; shared at alpha 0.25
        ("text", (None, 0.40, 0.40)),  # unscored
        ("text", (0.65, 0.50, 0.55)),  # teacher; shared at alpha 0.25
    ]),
    ("r3", "q2", None, None, [("text", (0.30, 0.65, 0.40))]),  # student
]  # fmt: skip
SELECT = [
    ("a", "q1", True, True, [("text", (0.9, 0.2)), ("text", (0.8, 0.3)), ("text", (0.5, 0.55))]),
    ("b", "q1", False, False, [("text", (0.5, 0.55)), ("text", (0.1, 0.6)), ("marker", (0.9, 0.1))]),
    ("c", "q2", None, True, [("text", (0.6, 0.4)), ("text", (None, 0.4))]),
]
ROLES = {"trace": ("teacher", "student", "distilled"), "select": ("teacher", "student")}
LABELS = {
    "trace": ("shared", "teacher", "student", "boosted", "unscored"),
    "select": ("common", "teacher", "student", "unscored"),
}


def label_by_hand(kind: str, p: tuple[float | None, ...], alpha: float, beta: float) -> str:
    if any(x is None for x in p):
        return "unscored"
    d_ts = p[0] - p[1]
    if kind == "trace" and abs(p[1] - p[2]) <= alpha and abs(p[0] - p[2]) <= alpha and abs(d_ts) <= alpha:
        return "shared"
    if d_ts > beta:
        return "teacher"
    if -d_ts > beta:
        return "student"
    return "boosted" if kind == "trace" else "common"


def sentence_rows(kind: str, records: list) -> list[dict[str, Any]]:
    """The sentences table of a run with RUN_ALPHA / RUN_BETA, one dict per row."""
    rows = []
    for rid, qid, correct, _, sentences in records:
        n = len(sentences)
        for i, (skind, probs) in enumerate(sentences):
            row: dict[str, Any] = {"id": rid, "question_id": qid, "sentence": i, "num_sentences": n}
            row.update(position=i / (n - 1) if n > 1 else 0.0, start=10 * i, end=10 * i + 10, kind=skind)
            row["text"] = None
            for role, p in zip(ROLES[kind], probs):
                tokens = 0 if p is None else 3
                row[f"{role}_sum_logprob"] = 0.0 if p is None else 3 * math.log(p)
                row[f"{role}_num_tokens"] = tokens
                row[f"{role}_prob"] = p
            p_t, p_s = probs[0], probs[1]
            if kind == "trace":
                p_d = probs[2]
                row["d_sd"] = None if p_s is None or p_d is None else p_s - p_d
                row["d_td"] = None if p_t is None or p_d is None else p_t - p_d
            row["d_ts"] = None if p_t is None or p_s is None else p_t - p_s
            row["label"] = label_by_hand(kind, probs, RUN_ALPHA, RUN_BETA)
            row["correct"] = correct
            rows.append(row)
    return rows


def schema(kind: str) -> pa.Schema:
    fields = [("id", pa.string()), ("question_id", pa.string()), ("sentence", pa.int32())]
    fields += [("num_sentences", pa.int32()), ("position", pa.float64()), ("start", pa.int64())]
    fields += [("end", pa.int64()), ("kind", pa.string()), ("text", pa.string())]
    for role in ROLES[kind]:
        fields += [(f"{role}_sum_logprob", pa.float64()), (f"{role}_num_tokens", pa.int32())]
        fields.append((f"{role}_prob", pa.float64()))
    fields += [(d, pa.float64()) for d in (("d_sd", "d_td", "d_ts") if kind == "trace" else ("d_ts",))]
    return pa.schema([*fields, ("label", pa.string()), ("correct", pa.bool_())])


def write_folder(root: Path, kind: str, records: list, **run_extra: Any) -> Path:
    """An output folder: run.json, sentences/ in two shards, questions.parquet for select."""
    (root / "sentences").mkdir(parents=True)
    run = {"kind": kind, "version": "0.1.0", "alpha": RUN_ALPHA, "beta": RUN_BETA, **run_extra}
    (root / "run.json").write_text(json.dumps(run), encoding="utf-8")
    for shard, part in enumerate((records[:1], records[1:])):
        table = pa.Table.from_pylist(sentence_rows(kind, part), schema=schema(kind))
        pq.write_table(table, root / "sentences" / f"part-{shard:05d}.parquet")
    if kind == "select":
        rows = [{"question_id": r[1], "id": r[0], "selected": r[3]} for r in records]
        pq.write_table(pa.Table.from_pylist(rows), root / "questions.parquet")
    return root


def md_tables(path: Path) -> dict[str, list[dict[str, str]]]:
    """Tables of report.md by title: rows as {column: cell}."""
    tables: dict[str, list[dict[str, str]]] = {}
    title, header = "", None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#### "):
            title, header = line[5:], None
            tables[title] = []
        elif line.startswith("|") and not line.startswith("|---"):
            cells = [c.strip() for c in line.strip("|").split(" | ")]
            if header is None:
                header = cells
            else:
                tables[title].append(dict(zip(header, cells)))
    return tables


def number(cell: str) -> float:
    return math.nan if cell == "n/a" else float(cell)


def assert_share(cell: str, expected: float) -> None:
    if math.isnan(expected):
        assert cell == "n/a"
    else:
        assert number(cell) == pytest.approx(expected, rel=1e-3, abs=1e-9)


def counted_rows(kind: str, records: list, alpha: float, beta: float, markers: bool = False) -> list[tuple]:
    """(id, correct, position, label, d_ts) of every counted sentence, by hand."""
    out = []
    for rid, _, correct, _, sentences in records:
        n = len(sentences)
        for i, (skind, probs) in enumerate(sentences):
            if skind == "marker" and not markers:
                continue
            d_ts = None if None in probs[:2] else probs[0] - probs[1]
            pos = i / (n - 1) if n > 1 else 0.0
            out.append((rid, correct, pos, label_by_hand(kind, probs, alpha, beta), d_ts))
    return out


def check_label_totals(tables: dict, kind: str, rows: list[tuple]) -> None:
    counts = Counter(r[3] for r in rows)
    scored = sum(n for label, n in counts.items() if label != "unscored")
    by_label = {r["label"]: r for r in tables["Labels"]}
    for label in LABELS[kind]:
        assert int(by_label[label]["sentences"]) == counts[label], label
        denominator = len(rows) if label == "unscored" else scored
        assert_share(by_label[label]["share"], counts[label] / denominator)


@pytest.fixture
def trace_dir(tmp_path: Path) -> Path:
    return write_folder(tmp_path / "trace", "trace", TRACE)


@pytest.fixture
def select_dir(tmp_path: Path) -> Path:
    return write_folder(tmp_path / "select", "select", SELECT)


def test_trace_report_files_and_numbers(trace_dir: Path) -> None:
    out = report(trace_dir)
    assert out == trace_dir / "report"
    for name in ("positions", "dts", "teacher_share"):
        assert (out / f"{name}.png").read_bytes().startswith(PNG_MAGIC)
    assert not (out / "adaptive_beta.png").exists() and not (out / "chosen.png").exists()
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count('src="data:image/png;base64,') == 3 and ".png" not in page
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "](positions.png)" in md and "](dts.png)" in md
    tables = md_tables(out / "report.md")
    rows = counted_rows("trace", TRACE, RUN_ALPHA, RUN_BETA)
    check_label_totals(tables, "trace", rows)
    about = {r["item"]: r["value"] for r in tables["This report"]}
    assert about["markers excluded"] == "1" and about["unscored sentences"] == "1"
    assert about["counted sentences"] == str(len(rows)) and about["records"] == "3"

    # label shares by position: correct (r1) and incorrect (r2) records; r3 has no `correct`
    table = tables["Label shares by relative position"]
    assert [r["group"] for r in table] == ["correct"] * 10 + ["incorrect"] * 10
    for r in table:
        lo = float(r["position"].split("–")[0])
        in_bin = [
            x for x in rows if x[1] == (r["group"] == "correct") and min(int(x[2] * 10), 9) == round(lo * 10)
        ]
        labels = Counter(x[3] for x in in_bin)
        scored = len(in_bin) - labels["unscored"]
        assert int(r["sentences"]) == len(in_bin) and int(r["scored"]) == scored
        for label in ("shared", "teacher", "student", "boosted"):
            assert_share(r[label], labels[label] / scored if scored else math.nan)
        assert_share(r["unscored"], labels["unscored"] / len(in_bin) if in_bin else math.nan)

    # d_TS histogram: bins of width 0.05 on [-1, 1]
    expected = Counter(min(math.floor((x[4] + 1) * 20), 39) for x in rows if x[4] is not None)
    histogram = tables["d_TS histogram"]
    assert [int(r["sentences"]) for r in histogram] == [expected[b] for b in range(40)]

    # teacher share per record: r1 1 of 4 scored, r2 2 of 2 scored (marker and unscored left out)
    summary = {r["group"]: r for r in tables["teacher share per record: summary"]}
    assert number(summary["correct"]["mean"]) == pytest.approx(0.25)
    assert number(summary["incorrect"]["max"]) == pytest.approx(1.0)
    assert summary["correct"]["records"] == "1" and summary["incorrect"]["records"] == "1"


def test_relabel_changes_shares_and_leaves_shards_alone(trace_dir: Path) -> None:
    shards = {p: p.read_bytes() for p in (trace_dir / "sentences").iterdir()}
    out = report(trace_dir, alpha=0.25, beta=0.3, formats=("md",), output=trace_dir / "other")
    assert out == trace_dir / "other" and not (out / "report.html").exists()
    tables = md_tables(out / "report.md")
    relabelled = counted_rows("trace", TRACE, 0.25, 0.3)
    assert Counter(r[3] for r in relabelled) != Counter(r[3] for r in counted_rows("trace", TRACE, 0.1, 0.1))
    check_label_totals(tables, "trace", relabelled)
    about = {r["item"]: r["value"] for r in tables["This report"]}
    assert (about["alpha"], about["beta"], about["beta from"]) == ("0.25", "0.3", "given")
    assert {p: p.read_bytes() for p in (trace_dir / "sentences").iterdir()} == shards

    # only beta given: alpha stays the run's
    tables = md_tables(report(trace_dir, beta=0.3) / "report.md")
    check_label_totals(tables, "trace", counted_rows("trace", TRACE, RUN_ALPHA, 0.3))


def test_auto_beta_and_adaptive_curve(trace_dir: Path) -> None:
    out = report(trace_dir, beta="auto")
    tables = md_tables(out / "report.md")
    d_ts = [r[4] for r in counted_rows("trace", TRACE, 0, 0) if r[4] is not None]
    beta = adaptive_beta(d_ts=d_ts).beta
    about = {r["item"]: r["value"] for r in tables["This report"]}
    assert number(about["beta"]) == pytest.approx(beta, rel=1e-3) and about["beta from"] == "adaptive"
    check_label_totals(tables, "trace", counted_rows("trace", TRACE, RUN_ALPHA, beta))
    assert (out / "adaptive_beta.png").read_bytes().startswith(PNG_MAGIC)
    assert len(tables["Adaptive-beta curve"]) == len(adaptive_beta(d_ts=d_ts).thresholds)

    # a plain rerun has no curve: the stale figure goes
    assert not (report(trace_dir) / "adaptive_beta.png").exists()


def test_curve_from_run_json(tmp_path: Path) -> None:
    curve = {"rule": "otsu-abs-dts", "beta": 0.25, "degenerate": False}
    curve |= {"thresholds": [0.2, 0.25, 0.3], "objective": [0.01, 0.03, 0.02], "histogram": [1, 2]}
    folder = write_folder(tmp_path / "t", "trace", TRACE, adaptive=curve)
    out = report(folder)
    tables = md_tables(out / "report.md")
    assert [(r["threshold"], r["objective"]) for r in tables["Adaptive-beta curve"]] == [
        ("0.2", "0.01"),
        ("0.25", "0.03"),
        ("0.3", "0.02"),
    ]
    assert {r["item"]: r["value"] for r in tables["Adaptive beta"]}["curve from"] == "run.json"
    assert (out / "adaptive_beta.png").read_bytes().startswith(PNG_MAGIC)


def test_include_markers(trace_dir: Path) -> None:
    tables = md_tables(report(trace_dir, include_markers=True, formats=("md",)) / "report.md")
    check_label_totals(tables, "trace", counted_rows("trace", TRACE, RUN_ALPHA, RUN_BETA, markers=True))
    assert {r["item"]: r["value"] for r in tables["This report"]}["markers excluded"] == "0"


def test_select_chosen_vs_not_chosen(select_dir: Path) -> None:
    out = report(select_dir)
    assert (out / "chosen.png").read_bytes().startswith(PNG_MAGIC)
    tables = md_tables(out / "report.md")
    rows = counted_rows("select", SELECT, 0, RUN_BETA)
    check_label_totals(tables, "select", rows)
    selected = {r[0] for r in SELECT if r[3]}
    table = {r["group"]: r for r in tables["Labels of chosen and not chosen responses"]}
    assert set(table) == {"chosen", "not chosen"}
    for group, ids in (("chosen", selected), ("not chosen", {r[0] for r in SELECT} - selected)):
        labels = Counter(x[3] for x in rows if x[0] in ids)
        scored = sum(labels.values()) - labels["unscored"]
        assert int(table[group]["records"]) == len(ids) and int(table[group]["scored"]) == scored
        for label in ("common", "teacher", "student"):
            assert_share(table[group][label], labels[label] / scored)
    teacher = {rid: sum(1 for x in rows if x[0] == rid and x[3] == "teacher") for rid in ("a", "b", "c")}
    counts = {r["group"]: r for r in tables["teacher sentences per record: summary"]}
    assert number(counts["chosen"]["mean"]) == pytest.approx(statistics.mean([teacher["a"], teacher["c"]]))
    assert number(counts["not chosen"]["max"]) == pytest.approx(teacher["b"])

    # relabelling a select folder takes beta only
    tables = md_tables(report(select_dir, beta=0.45) / "report.md")
    check_label_totals(tables, "select", counted_rows("select", SELECT, 0, 0.45))
    with pytest.raises(ValueError, match="alpha"):
        report(select_dir, alpha=0.2)


def test_empty_folder(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "empty", "trace", [])
    out = report(folder)
    assert "no sentences" in (out / "report.md").read_text(encoding="utf-8")
    assert (out / "report.html").is_file() and not list(out.glob("*.png"))


def test_errors(tmp_path: Path, trace_dir: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such folder"):
        report(tmp_path / "absent")
    (tmp_path / "bare").mkdir()
    with pytest.raises(ValueError, match=r"bare: run.json is missing"):
        report(tmp_path / "bare")
    (tmp_path / "bare" / "run.json").write_text('{"kind": "trace"}', encoding="utf-8")
    with pytest.raises(ValueError, match=r"bare: the sentences/ table is missing"):
        report(tmp_path / "bare")
    with pytest.raises(ValueError, match="formats"):
        report(trace_dir, formats=("pdf",))
    with pytest.raises(ValueError, match="beta must lie in"):
        report(trace_dir, beta=1.5)


def test_cli(trace_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(trace_dir), "--beta", "0.3", "--format", "md", "--bins", "4"]) == 0
    assert capsys.readouterr().out.splitlines() == [str(trace_dir / "report" / "report.md")]
    tables = md_tables(trace_dir / "report" / "report.md")
    assert len(tables["Label shares by relative position"]) == 2 * 4
    assert main(["report", str(tmp_path / "absent")]) == 2
    assert "no such folder" in capsys.readouterr().err
