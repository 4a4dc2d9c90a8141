"""SIGTERM while batches are being scored: requests already accepted are answered in full, later ones
are refused at the socket, and the process exits after shutting the batcher down."""

from __future__ import annotations

import signal
import threading
import time

import httpx

from rdpt_fast.serve.process import start_server


def test_sigterm_mid_batch_finishes_accepted_requests(qwen_dir, tmp_path):
    proc = start_server(
        qwen_dir,
        tmp_path / "serve.log",
        "--served-model-name",
        "m",
        "--max-batch-tokens",
        "256",
        "--batch-window-ms",
        "20",
        "--device",
        "cpu",
        "--dtype",
        "float32",
    )
    outcomes: list[object] = []
    body = {
        "model": "m",
        "prompt": [[(7 * i + j) % 1000 for j in range(200)] for i in range(6)],
        "echo": True,
        "logprobs": 2,
        "max_tokens": 1,
        "temperature": 0,
    }

    def client() -> None:
        try:
            outcomes.append(httpx.post(f"{proc.url}/v1/completions", json=body, timeout=120))
        except httpx.ConnectError as e:  # sent after the listener closed
            outcomes.append(e)

    try:
        threads = [threading.Thread(target=client) for _ in range(4)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 60
        while httpx.get(f"{proc.url}/stats").json()["sequences"] == 0:  # a batch is being scored
            assert time.monotonic() < deadline, "no batch started"
            time.sleep(0.01)
        proc.process.send_signal(signal.SIGTERM)
        for t in threads:
            t.join(120)
        code = proc.process.wait(60)
    finally:
        proc.stop()
    answered = [o for o in outcomes if isinstance(o, httpx.Response)]
    assert answered, "the request being scored at SIGTERM was not answered"
    for resp in answered:
        assert resp.status_code == 200, resp.text
        choices = resp.json()["choices"]
        assert len(choices) == 6 and all(len(c["logprobs"]["token_logprobs"]) == 201 for c in choices)
    assert all(isinstance(o, httpx.ConnectError) for o in outcomes if o not in answered)
    assert code in (0, -signal.SIGTERM)
    log = (tmp_path / "serve.log").read_text()
    assert "Application shutdown complete" in log and "Traceback" not in log
