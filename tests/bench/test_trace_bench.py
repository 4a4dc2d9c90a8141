"""The trace benchmark runs end to end on a few real traces and the README table renders from its JSON."""

from __future__ import annotations

import json

from rdpt_fast.bench import trace as bench_trace
from rdpt_fast.bench.tables import trace_table


def test_trace_bench_runs_and_renders(data_dir, tmp_path):
    argv = ["--data", str(data_dir), "--traces", "4", "--max-chars", "300", "--repeats", "1"]
    assert bench_trace.main([*argv, "--chunk-records", "2", "--out", str(tmp_path)]) == 0
    (path,) = tmp_path.glob("trace-cpu-*.json")
    results = json.loads(path.read_text())
    steps = [row["step"] for row in results["rows"]]
    assert steps[0].startswith("scoring floor") and len(steps) == 7
    floor = results["rows"][0]["seconds"]
    assert all(row["vs_floor"] == row["seconds"] / floor for row in results["rows"])
    assert results["tokens"] > 0 and results["sentences"] > 4
    table = trace_table(results)
    assert "| step | median s | x scoring floor |" in table
    assert "| scoring floor: Scorer.score x 3 models |" in table
