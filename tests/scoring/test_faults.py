"""Each fault gives its record an error with the reason; the other records are still scored."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rdpt_fast.scoring import Scorer
from rdpt_fast.scoring.runner import Runner


def test_bad_records_get_errors_and_the_stream_goes_on(qwen, records):
    model, tok = qwen
    good = [dict(r, id=f"ok{i}", response=r["response"][:300]) for i, r in enumerate(records[:3])]
    bad = [
        {"id": "empty", "prompt": "Q?", "response": ""},
        {"id": "noresp", "prompt": "Q?"},
        {"id": "long", "prompt": "Q?", "response": "word " * 20000},
        {"id": "msgs", "prompt": [{"role": "user"}], "response": "Hi."},
        {
            "id": "segs",
            "prompt": "Q?",
            "response": "Hi. There.",
            "segments": {"starts": [0], "ends": [3], "kinds": ["text"]},
        },
        "not a record",
    ]
    stream = [good[0], bad[0], bad[1], good[1], bad[2], bad[3], bad[4], bad[5], good[2]]
    scorer = Scorer(model, tok)
    out = list(scorer.score(stream))
    assert len(out) == len(stream)
    errors = {r.id: r.error for r in out if r.error}
    assert "empty response" in errors["empty"]
    assert "'response': missing" in errors["noresp"]
    assert "longer than the limit of 4096 tokens" in errors["long"]
    assert "prompt[0]" in errors["msgs"]
    assert "'segments'" in errors["segs"]
    assert "must be a mapping" in errors["record 7"]
    ok = [r for r in out if r.error is None]
    assert [r.id for r in ok] == ["ok0", "ok1", "ok2"]
    expected = list(Scorer(model, tok).score(good))
    for a, b in zip(ok, expected):
        np.testing.assert_allclose(a.sum_logprob, b.sum_logprob, rtol=0, atol=1e-4)
    assert scorer.stats.errors == 6 and scorer.stats.scored == 3


def test_template_failure_and_raw_mode_with_messages(llama, records):
    model, tok = llama
    raising = (
        "{% if messages[0]['content'] == 'boom' %}{{ raise_exception('boom is not allowed') }}{% endif %}x"
    )
    out = list(
        Scorer(model, tok, template=raising).score(
            [
                {"id": "a", "prompt": "boom", "response": "Hi."},
                {"id": "b", "prompt": "fine", "response": "Hi."},
            ]
        )
    )
    assert "chat template failed" in out[0].error and "boom is not allowed" in out[0].error
    assert out[1].error is None
    raw = Scorer(model, tok, template=None).score_one(
        {"id": "m", "prompt": [{"role": "user", "content": "x"}], "response": "Hi."}
    )
    assert "raw mode" in raw.error


def test_slow_tokenizer_is_refused(qwen):
    class Slow:
        is_fast = False

    with pytest.raises(ValueError, match="slow tokenizer"):
        Scorer(qwen[0], Slow())


def test_out_of_memory_splits_the_batch(qwen, records, monkeypatch):
    model, tok = qwen
    recs = [dict(r, response=r["response"][: 200 + 50 * i]) for i, r in enumerate(records[:5])]
    recs[4] = dict(recs[4], prompt="A different prompt.")
    expected = list(Scorer(model, tok, mode="reference").score(recs))
    real_run = Runner.run
    doomed = recs[3]["response"]

    def run(self, batch):
        if len(batch.traces) > 1:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        if batch.traces[0].response == doomed:
            raise RuntimeError("CUDA error: out of memory (simulated)")
        return real_run(self, batch)

    scorer = Scorer(model, tok)
    monkeypatch.setattr(Runner, "run", run)
    out = list(scorer.score(recs))
    assert scorer.stats.oom_splits >= 2
    assert "out of memory for a single trace" in out[3].error
    for i in (0, 1, 2, 4):
        assert out[i].error is None
        np.testing.assert_allclose(out[i].sum_logprob, expected[i].sum_logprob, rtol=0, atol=1e-4)


def test_other_errors_are_not_swallowed(qwen, records, monkeypatch):
    def run(self, batch):
        raise RuntimeError("a real bug")

    scorer = Scorer(*qwen)
    monkeypatch.setattr(Runner, "run", run)
    with pytest.raises(RuntimeError, match="a real bug"):
        list(scorer.score(records[:1]))
