"""Bad requests get OpenAI-style JSON errors with 4xx codes and the server keeps serving; concurrent
clients get the same numbers as one client alone; the API key is enforced."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from .conftest import API_KEY, MODEL_NAME

GOOD = {"model": MODEL_NAME, "prompt": "Let me think about it.", "echo": True, "logprobs": 1, "max_tokens": 0}


def post(url: str, body, **kwargs) -> httpx.Response:
    if isinstance(body, (dict, list)):
        return httpx.post(f"{url}/v1/completions", json=body, timeout=60, **kwargs)
    return httpx.post(f"{url}/v1/completions", content=body, timeout=60, **kwargs)


def error_of(resp: httpx.Response, status: int) -> str:
    assert resp.status_code == status, resp.text
    body = resp.json()["error"]
    assert set(body) == {"message", "type", "param", "code"}
    return body["message"]


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        (b'{"model": "tiny-qwen", "prompt": ', 400, "not valid JSON"),
        (b'{"model": "tiny-qwen", "prompt": "caf\xe9"}', 400, "not valid UTF-8"),
        ([1, 2, 3], 400, "must be a JSON object"),
        ({**GOOD, "model": "gpt-5"}, 404, "`gpt-5` does not exist"),
        ({**GOOD, "max_tokens": 2}, 400, "max_tokens must be 0"),
        ({k: v for k, v in GOOD.items() if k != "max_tokens"}, 400, "max_tokens must be 0"),
        ({**GOOD, "max_tokens": 1, "temperature": 0.7}, 400, "temperature must be 0"),
        ({**GOOD, "prompt": [1, "a"]}, 400, "prompt must be a string"),
        ({**GOOD, "prompt": []}, 400, "prompt must be a string"),
        ({**GOOD, "prompt": ""}, 400, "prompt has no tokens"),
        (
            b'{"model": "tiny-qwen", "prompt": "a\\ud800b", "max_tokens": 0, "echo": true}',
            400,
            "cannot be tokenized",
        ),
        ({**GOOD, "prompt": [5, 10**9]}, 400, "outside the vocabulary"),
        ({**GOOD, "prompt": [7] * 5000}, 400, "exceeds the model's context of 4096"),
        ({**GOOD, "prompt": [7] * 600}, 400, "batch budget of 512"),
        ({**GOOD, "logprobs": -1}, 400, "logprobs"),
        ({**GOOD, "logprobs": 50}, 400, "at most 20"),
        ({**GOOD, "echo": "yes"}, 400, "echo"),
        ({**GOOD, "stream": True}, 400, "stream is not supported"),
        ({**GOOD, "n": 3}, 400, "n must be 1"),
    ],
)
def test_bad_requests_get_json_errors(server, body, status, says):
    assert says in error_of(post(server.url, body), status)


def test_unknown_route_and_method(server):
    assert error_of(httpx.get(f"{server.url}/v1/nothing"), 404)
    assert error_of(httpx.get(f"{server.url}/v1/completions"), 405)


def test_server_still_serves_after_errors(server):
    post(server.url, b"\x00\x01 garbage")
    assert httpx.get(f"{server.url}/health").json() == {"status": "ok"}
    assert post(server.url, GOOD).status_code == 200


def test_concurrent_clients_get_the_numbers_of_one_client(server):
    """8 requests from 4 threads (prompts sharing a prefix, batched together by the server) equal the
    same requests sent one at a time."""
    stem = "Okay, so I need to find the number of minutes the walk takes, including the coffee shop. "
    bodies = [
        {**GOOD, "prompt": [stem + f"Case {i}: " + "so " * (i % 5), stem + f"Other {i}."]} for i in range(8)
    ]
    alone = [post(server.url, b).json() for b in bodies]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda b: post(server.url, b).json(), bodies))
    for a, t in zip(alone, together):
        for ca, ct in zip(a["choices"], t["choices"]):
            assert ca["logprobs"]["tokens"] == ct["logprobs"]["tokens"]
            assert ct["logprobs"]["token_logprobs"][1:] == pytest.approx(
                ca["logprobs"]["token_logprobs"][1:], abs=1e-5
            )


def test_api_key(keyed_server):
    url = keyed_server.url
    assert error_of(post(url, GOOD), 401)
    assert error_of(post(url, GOOD, headers={"Authorization": "Bearer wrong"}), 401)
    assert post(url, GOOD, headers={"Authorization": f"Bearer {API_KEY}"}).status_code == 200
    assert httpx.get(f"{url}/health").status_code == 200
    assert httpx.get(f"{url}/v1/models").status_code == 401


def test_tokenizer_endpoints_are_what_lm_eval_detects(server):
    from lm_eval.utils import RemoteTokenizer, check_remote_tokenizer_support

    assert check_remote_tokenizer_support(server.url + "/v1/completions")
    remote = RemoteTokenizer(server.url + "/v1/completions")
    tok = server.scorer.tokenizer
    text = "Wait, let me double-check that."
    assert remote.encode(text) == tok(text, add_special_tokens=False)["input_ids"]
    assert remote.decode(remote.encode(text)) == text
    assert remote.eos_token == tok.eos_token
