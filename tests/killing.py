"""Killing a run mid-way: start a command, SIGKILL it as soon as its manifest lists a shard of a stage."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest


def marked(manifest: Path, stage: str) -> set[int]:
    """Chunks of `stage` marked in the manifest journal (a torn last line is skipped)."""
    chunks = set()
    for line in manifest.read_text().splitlines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        if event.get("stage") == stage:
            chunks.add(event["chunk"])
    return chunks


def kill_when(cmd: list[str], manifest: Path, stage: str, timeout: float = 180.0) -> None:
    """Start `cmd`, SIGKILL it as soon as the manifest lists a shard of `stage`."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"the run ended (rc {proc.returncode}) before a {stage} shard could be killed")
            if manifest.exists() and marked(manifest, stage):
                break
            time.sleep(0.01)
        else:
            pytest.fail(f"no {stage} shard within {timeout} s")
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
