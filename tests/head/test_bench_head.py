"""The head benchmark runs end to end on a tiny CPU shape and its Markdown rendering is right."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rdpt_fast.bench.head import main, render_markdown


def test_cpu_benchmark_writes_results(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--device", "cpu", "--shapes", "64x16x500", "--repeats", "2", "--out", str(tmp_path),
            "--methods", "rdpt:torch,rdpt:reference,matmul-floor,liger-kernel,rdpt:triton"]  # fmt: skip
    assert main(argv) == 0
    (out,) = tmp_path.glob("head-cpu-*.json")
    results = json.loads(out.read_text())
    assert (
        results["machine"]["device"] == "cpu" and results["dtype"] == "float32" and results["torch_version"]
    )
    assert "--shapes 64x16x500" in results["command"]
    rows = {r["method"]: r for r in results["rows"]}
    assert set(rows) == {"rdpt:torch", "rdpt:reference", "matmul-floor", "liger-kernel", "rdpt:triton"}
    # Liger-Kernel is GPU-only: skipped on CPU whether or not it is installed
    assert rows["liger-kernel"]["skipped"] and "CUDA" in rows["rdpt:triton"]["skipped"]
    for name in ("rdpt:torch", "rdpt:reference", "matmul-floor"):
        r = rows[name]
        assert r["median_ms"] > 0 and r["peak_extra_mib"] >= 0 and r["repeats"] == 2
        assert r["tflops"] == pytest.approx(2 * 64 * 16 * 500 / (r["median_ms"] / 1e3) / 1e12)
    assert "| 64 x 16 x 500 | rdpt:torch |" in capsys.readouterr().out


def test_render_markdown_ratios() -> None:
    common = {"N": 8, "H": 4, "V": 10, "tokens_per_s": 1.0, "tflops": 0.5, "peak_extra_mib": 1.5}
    results = {
        "machine": {"device": "cpu", "device_name": "Test CPU"},
        "command": "rdpt-fast bench head",
        "torch_version": "2.x",
        "date": "2026-11-29T00:00:00+00:00",
        "dtype": "float32",
        "repeats": 3,
        "rows": [
            {**common, "method": "rdpt:reference", "median_ms": 30.0},
            {**common, "method": "rdpt:torch", "median_ms": 10.0},
            {"method": "cut-cross-entropy", "N": 8, "H": 4, "V": 10, "skipped": "not installed"},
        ],
    }
    table = render_markdown(results)
    assert "Test CPU" in table
    assert "| 8 x 4 x 10 | rdpt:torch | 10.0 | 1 | 0.50 | 1.5 | 3.00x |" in table
    assert "| 8 x 4 x 10 | cut-cross-entropy | skipped: not installed |" in table
