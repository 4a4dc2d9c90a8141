"""The GPU check cannot rot: its --dry-run runs on a CPU machine (plan, test collection, e2e preparation)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from rdpt_fast.bench import gpu
from rdpt_fast.bench.common import find_data_dir
from rdpt_fast.bench.gpu_e2e import CORPUS, TRAIN_CORPUS


def test_dry_run_writes_a_marked_json(tmp_path: Path) -> None:
    try:
        find_data_dir(None, (CORPUS, TRAIN_CORPUS))
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    assert gpu.main(["--dry-run", "--out", str(tmp_path)]) == 0
    (out,) = tmp_path.glob("gpu-check-dry-run-*.json")
    res = json.loads(out.read_text())
    assert res["dry_run"] is True and res["versions"]["torch"] and "--dry-run" in res["command"]
    steps = {s["name"]: s for s in res["steps"]}
    assert steps["tests"]["ok"] and "collected" in steps["tests"]["output_tail"]
    assert steps["head"]["planned"] and "--shapes" in steps["head"]["command"]
    e2e = steps["e2e"]["result"]
    assert e2e["dry_run"] and e2e["config"]["hidden_size"] == 1536 and e2e["config"]["vocab_size"] == 151936
    assert 1.4e9 < e2e["parameters"] < 1.7e9  # Qwen2.5-1.5B has 1.54 B parameters
    assert e2e["tokens"] > 1000


def test_crossover_from_rows() -> None:
    rows = [
        {"method": "rdpt:triton", "N": 4096, "H": 8, "V": 16, "median_ms": 1.0},
        {"method": "rdpt:cublas", "N": 4096, "H": 8, "V": 16, "median_ms": 2.0},
        {"method": "rdpt:triton", "N": 32768, "H": 8, "V": 16, "median_ms": 9.0},
        {"method": "rdpt:cublas", "N": 32768, "H": 8, "V": 16, "median_ms": 6.0},
        {"method": "liger-kernel", "N": 4096, "H": 8, "V": 16, "skipped": "not installed"},
    ]
    got = gpu.crossover(rows)
    assert [(c["N"], c["faster"]) for c in got] == [(4096, "triton"), (32768, "cublas")]
    assert got[1]["triton_over_cublas_time"] == pytest.approx(1.5)


def test_run_step_isolates_failures() -> None:
    bad = gpu.run_step({"name": "x"}, ["python3", "-c", "raise SystemExit(3)"], 30)
    assert bad["rc"] == 3 and not bad["ok"]
    slow = gpu.run_step({"name": "x"}, ["python3", "-c", "import time; time.sleep(5)"], 0.5)
    assert slow["rc"] == 124


def test_check_script_is_valid_bash() -> None:
    script = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu" / "check.sh"
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    text = script.read_text()
    assert "--no-build-isolation --no-deps -e ." in text and "rdpt_fast.bench.gpu" in text
