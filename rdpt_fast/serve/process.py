"""`rdpt-fast serve` as a child process (benchmarks, tests): started on a free port, its base URL read
from uvicorn's startup line in the log file."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

STARTED = re.compile(r"Uvicorn running on (http://\S+)")


class ServerProcess:
    """A running server: `process`, `url` (e.g. http://127.0.0.1:PORT) and its `log` file."""

    def __init__(self, process: subprocess.Popen, url: str, log: Path):
        self.process, self.url, self.log = process, url, log

    def stop(self, timeout: float = 60.0) -> int:
        """SIGTERM, then wait; returns the exit code (killed after `timeout` seconds)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def start_server(model: str | Path, log: Path, *args: str, timeout: float = 300.0) -> ServerProcess:
    """Start `rdpt-fast serve --model MODEL --port 0 ARGS...` with its output in `log`; wait until it
    listens (uvicorn logs that at the default log level: ARGS must not lower it).
    Raises RuntimeError (with the log's tail) when it exits or does not start in `timeout` s."""
    command = [
        sys.executable,
        "-m",
        "rdpt_fast.cli.main",
        "serve",
        "--model",
        str(model),
        "--port",
        "0",
        *args,
    ]
    with open(log, "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = STARTED.search(log.read_text(encoding="utf-8", errors="replace"))
        if found:
            return ServerProcess(process, found.group(1), log)
        if process.poll() is not None:
            break
        time.sleep(0.2)
    ServerProcess(process, "", log).stop(5)
    tail = log.read_text(encoding="utf-8", errors="replace")[-2000:]
    raise RuntimeError(f"rdpt-fast serve did not start (exit code {process.returncode}):\n{tail}")
