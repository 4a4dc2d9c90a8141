"""The segmentation benchmark runs end to end, its pieces count what they claim, and the README table
is rendered from its JSON."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from rdpt_fast.bench import segment as bench_segment
from rdpt_fast.bench.common import CORPORA, load_corpus
from rdpt_fast.bench.segment import quality_texts
from rdpt_fast.bench.segment_peers import BlingfireC
from rdpt_fast.bench.segment_quality import QualitySample, boundaries, count_inside
from rdpt_fast.bench.tables import segment_table, update_readme


def fake_results(date: str, mb_per_s: dict[str, float]) -> dict:
    rows = [
        {
            "impl": k,
            "tier": "fast",
            "mb": 1.0,
            "mb_per_s": v,
            "min_s": 0.5 / v,
            "boundaries": 10,
            "in_math": 2,
            "in_code": 1,
        }
        for k, v in mb_per_s.items()
    ]
    return {
        "benchmark": "segment",
        "date": date,
        "command": "rdpt-fast bench segment",
        "note": "under load",
        "load_average_1m": {"before": 2.5, "after": 3.0},
        "machine": {"device": "cpu", "cpu": "Test CPU", "cores": 2},
        "corpus": {"fast_mb": 16.0, "slow_mb": 2.0, "slowest_mb": 0.5},
        "quality": {"traces": 200, "chars": 2_500_000, "math_regions": 5000, "code_fences": 30},
        "rows": rows,
    }


def test_table_ratios_come_from_one_run() -> None:
    results = fake_results(
        "2026-01-01T00:00:00+00:00",
        {"rdpt-fast C++ v2 (1 thread)": 300.0, "blingfire C call (ctypes, byte offsets)": 20.0},
    )
    table = segment_table(results)
    assert "| rdpt-fast C++ v2 (1 thread) | fast | 300.00 | 600.00 | 15.0 | 10 | 2 | 1 |" in table
    assert "Test CPU (2 cores), 2026-01-01" in table and "under load" in table and "load average 2.5" in table
    assert "200 traces (2.5 M characters) holding 5,000 math regions and 30 code fences" in table


def test_update_readme_takes_the_newest_results(tmp_path: Path) -> None:
    results_dir = tmp_path / "results"
    results_dir.mkdir()
    old = fake_results("2026-01-01T00:00:00+00:00", {"rdpt-fast reference v2 (Python)": 1.0})
    new = fake_results("2026-02-01T00:00:00+00:00", {"rdpt-fast reference v2 (Python)": 2.0})
    (results_dir / "segment-cpu-2026-01-01.json").write_text(json.dumps(old))
    (results_dir / "segment-cpu-2026-02-01.json").write_text(json.dumps(new))
    readme = tmp_path / "README.md"
    readme.write_text("# x\n<!-- bench:segment -->\nstale\n<!-- /bench:segment -->\nend\n")
    assert update_readme(readme, results_dir)
    text = readme.read_text()
    assert "stale" not in text and "| 2.00 |" in text and "| 1.00 |" not in text
    assert text.endswith("<!-- /bench:segment -->\nend\n")
    assert not update_readme(readme, results_dir)


def test_boundaries_inside_regions_are_counted_by_hand() -> None:
    text = "See $x. Y$ now. Done.\n```\na. B\n```\nEnd."
    # sentence starts a peer might give: 0, inside the math (8: "Y"), after "now. " (16), inside the
    # fence (29: "B"), with leading whitespace (34: "\nEnd." -> 35, the end of the fence: not inside)
    points = boundaries(text, [0, 8, 16, 29, 34])
    assert points == [8, 16, 29, 35]
    sample = QualitySample([text])
    assert sample.math == [[(4, 10)]] and sample.fences == [[(22, 35)]]
    assert count_inside(points, sample.math[0]) == 1 and count_inside(points, sample.fences[0]) == 1
    assert sample.count(lambda t: [0, 8, 16, 29, 34]) == {"boundaries": 4, "in_math": 1, "in_code": 1}


def test_quality_sample_is_evenly_spaced_plus_every_fenced_trace() -> None:
    texts = [f"t{i}" for i in range(10)]
    texts[3] = texts[8] = "x\n```\ny\n```\n"
    assert quality_texts(texts, 2) == [texts[0], texts[3], texts[5], texts[8]]


def test_blingfire_c_call_gives_the_sentences_of_the_python_api() -> None:
    blingfire = pytest.importorskip("blingfire")
    call = BlingfireC(blingfire.blingfire)
    text = "Ça coûte 5 euros. Il est là. Wait... Let me check. 😀 Done."
    begins, ends = call(text)  # UTF-8 byte offsets; ends point at the last byte's character
    data = text.encode("utf-8")
    c_starts = [len(data[:b].decode("utf-8")) for b in begins.tolist()]
    assert c_starts == [b for b, _ in blingfire.text_to_sentences_and_offsets(text)[1]]
    assert len(c_starts) >= 2 and len(ends) == len(begins)


def small_corpora(data_dir: Path, out: Path) -> Path:
    """The two corpora cut to three traces each (the first with a code fence among them), same names."""
    for name in CORPORA:
        records = load_corpus(data_dir / name)
        fenced = [r for r in records if "```" in r["response"]][:1]
        with gzip.open(out / name, "wt", encoding="utf-8") as f:
            for r in [*fenced, *records[:2]]:
                f.write(json.dumps({"id": r["id"], "response": r["response"]}) + "\n")
    return out


def test_benchmark_runs_on_a_small_sample(tmp_path: Path, data_dir: Path) -> None:
    small = small_corpora(data_dir, tmp_path)
    rc = bench_segment.main(
        ["--data", str(small), "--max-mb", "0", "--slow-mb", "0.01", "--slowest-mb", "0.005",
         "--repeats", "1", "--slow-repeats", "1", "--quality-traces", "2", "--out", str(tmp_path)]
    )  # fmt: skip
    assert rc == 0
    (saved,) = tmp_path.glob("segment-cpu-*.json")
    results = json.loads(saved.read_text())
    names = [r["impl"] for r in results["rows"]]
    assert "rdpt-fast C++ v2 (1 thread)" in names and "rdpt-fast reference v2 (Python)" in names
    assert all(r["mb_per_s"] > 0 for r in results["rows"])
    ours = [r for r in results["rows"] if r["impl"].startswith("rdpt-fast") and "v2" in r["impl"]]
    assert all(r["in_math"] == 0 and r["in_code"] == 0 for r in ours)  # rule 2: none by construction
    assert results["command"].startswith("rdpt-fast bench segment")
    assert results["quality"]["code_fences"] > 0  # the fenced traces join the evenly spaced ones
    assert segment_table(results).count("\n| ") == len(names) + 1
