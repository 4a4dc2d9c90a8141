"""The segmentation benchmark runs end to end and the README table is rendered from its JSON."""

from __future__ import annotations

import json
from pathlib import Path

from rdpt_fast.bench import segment as bench_segment
from rdpt_fast.bench.tables import segment_table, update_readme


def fake_results(date: str, mb_per_s: dict[str, float]) -> dict:
    rows = [{"impl": k, "mb": 1.0, "mb_per_s": v} for k, v in mb_per_s.items()]
    return {
        "benchmark": "segment",
        "date": date,
        "command": "rdpt-fast bench segment",
        "machine": {"device": "cpu", "cpu": "Test CPU", "cores": 2},
        "corpus": {"sample_mb": 1.0},
        "rows": rows,
    }


def test_table_ratios_come_from_one_run() -> None:
    results = fake_results(
        "2026-01-01T00:00:00+00:00",
        {"rdpt-fast C++ (1 thread)": 300.0, "rdpt-fast reference (Python)": 3.0, "blingfire x": 6.0},
    )
    table = segment_table(results)
    assert "| rdpt-fast C++ (1 thread) | 300.00 | 100.0 | 50.0 | 1.00 |" in table
    assert "Test CPU (2 cores), 2026-01-01" in table


def test_update_readme_takes_the_newest_results(tmp_path: Path) -> None:
    results_dir = tmp_path / "results"
    results_dir.mkdir()
    old = fake_results("2026-01-01T00:00:00+00:00", {"rdpt-fast reference (Python)": 1.0})
    new = fake_results("2026-02-01T00:00:00+00:00", {"rdpt-fast reference (Python)": 2.0})
    (results_dir / "segment-cpu-2026-01-01.json").write_text(json.dumps(old))
    (results_dir / "segment-cpu-2026-02-01.json").write_text(json.dumps(new))
    readme = tmp_path / "README.md"
    readme.write_text("# x\n<!-- bench:segment -->\nstale\n<!-- /bench:segment -->\nend\n")
    assert update_readme(readme, results_dir)
    text = readme.read_text()
    assert "stale" not in text and "| 2.00 |" in text and "| 1.00 | 1.0 |" not in text
    assert text.endswith("<!-- /bench:segment -->\nend\n")
    assert not update_readme(readme, results_dir)


def test_benchmark_runs_on_a_small_sample(tmp_path: Path, data_dir: Path) -> None:
    rc = bench_segment.main(
        ["--data", str(data_dir), "--max-mb", "0.3", "--pysbd-mb", "0.01", "--repeats", "1",
         "--slow-repeats", "1", "--out", str(tmp_path)]
    )  # fmt: skip
    assert rc == 0
    (saved,) = tmp_path.glob("segment-cpu-*.json")
    results = json.loads(saved.read_text())
    names = [r["impl"] for r in results["rows"]]
    assert "rdpt-fast C++ (1 thread)" in names and "rdpt-fast reference (Python)" in names
    assert all(r["mb_per_s"] > 0 for r in results["rows"])
    assert results["command"].startswith("rdpt-fast bench segment")
