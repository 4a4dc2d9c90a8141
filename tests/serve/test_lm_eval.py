"""lm-evaluation-harness against rdpt-fast: its own `hf` model, the `rdpt-fast` model and its
`local-completions` client talking to `rdpt-fast serve` give the same per-sample log-likelihoods (within
1e-4) and is_greedy flags on a local multiple-choice task (one choice per question is the model's greedy
continuation where the tokenizer allows, so is_greedy is not always False)."""

from __future__ import annotations

import os

import pytest
import torch

from rdpt_fast.bench.mc_task import synthetic_questions, write_mc_task

from .conftest import MODEL_NAME

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
lm_eval = pytest.importorskip("lm_eval", reason="lm-eval is part of rdpt-fast[test]")
TASK = "rdpt_mc_test"


@torch.inference_mode()
def with_greedy_choices(questions: list[dict], model, tok) -> list[dict]:
    """Question i's first choice replaced by the model's greedy next token after its prompt, when that
    token starts with a space and tokenizes back to itself after the prompt."""
    for q in questions:
        context = f"{q['question']}\nAnswer:"
        ids = tok(context)["input_ids"]
        best = int(model(input_ids=torch.tensor([ids])).logits[0, -1].argmax())
        text = tok.decode([best])
        if text.startswith(" ") and text.strip() and tok(context + text)["input_ids"] == [*ids, best]:
            q["choices"][0] = text[1:]
    return questions


@pytest.fixture(scope="module")
def task_dir(tmp_path_factory, scorer):
    questions = with_greedy_choices(synthetic_questions(8, seed=3), scorer.model, scorer.tokenizer)
    return write_mc_task(tmp_path_factory.mktemp("lm_eval_task"), TASK, questions)


def per_sample(model, task_dir, **kwargs) -> list[list[tuple[float, bool]]]:
    from lm_eval.tasks import TaskManager

    results = lm_eval.simple_evaluate(
        model=model,
        tasks=[TASK],
        task_manager=TaskManager(include_path=str(task_dir)),
        log_samples=True,
        **kwargs,
    )
    samples = sorted(results["samples"][TASK], key=lambda s: s["doc_id"])
    return [[(float(r[0][0]), bool(r[0][1])) for r in s["resps"]] for s in samples]


def assert_same(got, expected):
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert [x[1] for x in g] == [x[1] for x in e]
        assert [x[0] for x in g] == pytest.approx([x[0] for x in e], abs=1e-4)


@pytest.fixture(scope="module")
def hf_results(qwen_dir, task_dir):
    results = per_sample(
        "hf", task_dir, model_args=f"pretrained={qwen_dir},dtype=float32", device="cpu", batch_size=4
    )
    assert any(greedy for sample in results for _, greedy in sample), (
        "no greedy choice: the test would be weak"
    )
    return results


def test_rdpt_fast_model_equals_hf(qwen_dir, task_dir, hf_results):
    import rdpt_fast.integrations.lm_eval  # noqa: F401  (registers "rdpt-fast")

    got = per_sample(
        "rdpt-fast", task_dir, model_args=f"pretrained={qwen_dir},dtype=float32", device="cpu", batch_size=2
    )
    assert_same(got, hf_results)


def test_local_completions_against_the_server_equals_hf(server, task_dir, hf_results):
    args = (
        f"model={MODEL_NAME},base_url={server.url}/v1/completions,"
        "num_concurrent=2,max_retries=1,tokenized_requests=True"
    )
    got = per_sample("local-completions", task_dir, model_args=args, batch_size=4)
    assert_same(got, hf_results)


def test_rolling_loglikelihood_equals_hf_and_generation_is_refused(qwen_dir):
    from lm_eval.api.instance import Instance
    from lm_eval.models.huggingface import HFLM

    from rdpt_fast.integrations.lm_eval import RdptLM

    ours = RdptLM(str(qwen_dir), dtype="float32", device="cpu")
    hf = HFLM(pretrained=str(qwen_dir), dtype="float32", device="cpu", batch_size=2)
    ours._max_length = hf._max_length = 24  # several rolling windows per document
    texts = [
        "Okay, so I need to find the number of minutes. Let me think. " * 3,
        "Wait, let me double-check.",
    ]
    docs = [Instance("loglikelihood_rolling", {}, (t,), i) for i, t in enumerate(texts)]
    assert ours.loglikelihood_rolling(docs) == pytest.approx(hf.loglikelihood_rolling(docs), abs=1e-4)
    with pytest.raises(NotImplementedError, match="scoring-only backend"):
        ours.generate_until([Instance("generate_until", {}, ("Hi", {"until": ["\n"]}), 0)])
    with pytest.raises(ValueError, match="unsupported model_args load_in_4bit"):
        RdptLM(str(qwen_dir), load_in_4bit=True)
