"""The scoring server on the tiny Qwen2 (tests/conftest.py `qwen_dir`), in this process: uvicorn in a
thread on a free port, one server per test session (the model loads and self-checks once)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

MODEL_NAME = "tiny-qwen"
API_KEY = "secret-key"


@dataclass
class Running:
    url: str  # http://127.0.0.1:PORT
    scorer: object


def serve_in_thread(scorer, config) -> tuple[object, threading.Thread, str]:
    """(uvicorn server, its thread, base URL); the socket is bound before the thread starts."""
    import uvicorn

    from rdpt_fast.serve.app import create_app

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(scorer, config), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the in-process server did not start")
        time.sleep(0.05)
    return server, thread, f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture(scope="session")
def scorer(qwen_dir: Path):
    from rdpt_fast.scoring.sequences import SequenceScorer

    return SequenceScorer.load(qwen_dir, device="cpu", dtype="float32", max_batch_tokens=512)


def _running(scorer, **options) -> Iterator[Running]:
    from rdpt_fast.serve.app import ServeConfig

    config = ServeConfig(served_model_name=MODEL_NAME, max_batch_tokens=512, batch_window_s=0.02, **options)
    server, thread, url = serve_in_thread(scorer, config)
    yield Running(url, scorer)
    server.should_exit = True
    thread.join(30)


@pytest.fixture(scope="session")
def server(scorer) -> Iterator[Running]:
    """The server without an API key."""
    yield from _running(scorer)


@pytest.fixture(scope="session")
def keyed_server(scorer) -> Iterator[Running]:
    """The same scorer served with --api-key."""
    yield from _running(scorer, api_key=API_KEY)
