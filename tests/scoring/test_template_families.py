"""Chat templates written like those of the families users bring (DeepSeek-R1, Qwen3, gpt-oss harmony,
Llama-3, a template that refuses a system message). For each, the scored text is written out by hand
here: the rendered context, then the response verbatim; the scores equal the naive full-logits scorer
on exactly that text."""

from __future__ import annotations

import numpy as np
import pytest

from rdpt_fast.scoring import Scorer
from rdpt_fast.scoring.templates import PromptRenderer, TemplateError

from .naive import naive_scores

R1 = (
    "{{ bos_token }}{% for m in messages %}{% if m['role'] == 'user' %}<｜User｜>{{ m['content'] }}"
    "{% elif m['role'] == 'assistant' %}{% set c = m['content'] %}{% if '</think>' in c %}"
    "{% set c = c.split('</think>')[-1] %}{% endif %}<｜Assistant｜>{{ c }}<｜end▁of▁sentence｜>{% endif %}"
    "{% endfor %}{% if add_generation_prompt %}<｜Assistant｜><think>\n{% endif %}"
)
QWEN3 = (
    "{% for m in messages %}{% if m['role'] == 'assistant' %}"
    "{% set c = m['content'].split('</think>')[-1].lstrip('\n') %}"
    "<|im_start|>assistant\n{{ c }}<|im_end|>\n{% else %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}"
    "<|im_end|>\n{% endif %}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
HARMONY = (
    "{% for m in messages %}<|start|>{{ m['role'] }}<|message|>{{ m['content'] }}<|end|>{% endfor %}"
    "{% if add_generation_prompt %}<|start|>assistant{% endif %}"
)
LLAMA3 = (
    "{{ bos_token }}{% for m in messages %}<|start_header_id|>{{ m['role'] }}<|end_header_id|>\n\n"
    "{{ m['content'] | trim }}<|eot_id|>{% endfor %}"
    "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}"
)
NO_SYSTEM = (
    "{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}"
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
THOUGHT = "Okay, so we add 2 and 3. That gives 5. Wait, check again.\n"

CASES = {
    "r1-prefilled-think-in-response": (
        R1,
        "Add 2 and 3.",
        "<think>\n" + THOUGHT + "</think>\n\nThe answer is 5.",
        "<|endoftext|><｜User｜>Add 2 and 3.<｜Assistant｜>",
    ),
    "r1-response-after-prefill": (
        R1,
        "Add 2 and 3.",
        THOUGHT + "</think>\n\nThe answer is 5.",
        "<|endoftext|><｜User｜>Add 2 and 3.<｜Assistant｜><think>\n",
    ),
    "qwen3-earlier-thinking-stripped": (
        QWEN3,
        [
            {"role": "user", "content": "Add 1 and 1."},
            {"role": "assistant", "content": "<think>\nEasy.\n</think>\n\nIt is 2."},
            {"role": "user", "content": "Add 2 and 3."},
        ],
        "<think>\n" + THOUGHT + "</think>\n\nThe answer is 5.",
        "<|im_start|>user\nAdd 1 and 1.<|im_end|>\n<|im_start|>assistant\nIt is 2.<|im_end|>\n"
        "<|im_start|>user\nAdd 2 and 3.<|im_end|>\n<|im_start|>assistant\n",
    ),
    "gpt-oss-harmony-channels": (
        HARMONY,
        [{"role": "system", "content": "Reasoning: high"}, {"role": "user", "content": "Add 2 and 3."}],
        "<|channel|>analysis<|message|>" + THOUGHT + "<|end|><|start|>assistant<|channel|>final"
        "<|message|>The answer is 5.<|return|>",
        "<|start|>system<|message|>Reasoning: high<|end|><|start|>user<|message|>Add 2 and 3.<|end|>"
        "<|start|>assistant",
    ),
    "llama3-bos-in-template": (
        LLAMA3,
        "  Add 2 and 3.  ",
        THOUGHT + "The answer is 5.",
        "<|endoftext|><|start_header_id|>user<|end_header_id|>\n\nAdd 2 and 3.<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_scored_text_is_rendered_context_plus_verbatim_response(case, qwen):
    model, tok = qwen
    template, prompt, response, context = CASES[case]
    assert PromptRenderer(tok, template).context(prompt, response).text == context
    res = Scorer(model, tok, template=template).score_one(
        {"id": case, "prompt": prompt, "response": response}
    )
    assert res.error is None
    assert "".join(res.segments.texts(response)) == response
    segs, sums, counts = naive_scores(model, tok, context, response, add_special_tokens=False)
    assert res.segments == segs
    np.testing.assert_array_equal(res.num_tokens, counts)
    np.testing.assert_allclose(res.sum_logprob, sums, rtol=0, atol=1e-4)
    ids = tok(context + response, add_special_tokens=False)["input_ids"]
    assert res.num_prompt_tokens + res.num_response_tokens == len(ids)
    assert ids.count(tok.bos_token_id) == context.count(tok.bos_token)  # no BOS added beyond the template's


def test_template_that_refuses_a_system_message_is_a_per_record_error(qwen):
    model, tok = qwen
    records = [
        {
            "id": "sys",
            "prompt": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
            "response": "Hello.",
        },
        {"id": "ok", "prompt": "Hi", "response": "Hello."},
    ]
    out = list(Scorer(model, tok, template=NO_SYSTEM).score(records))
    assert "chat template failed" in out[0].error and "System role not supported" in out[0].error
    assert out[1].error is None


def test_prompt_ending_in_an_assistant_turn_is_a_per_record_error(qwen):
    """The response must be the assistant's whole turn: a prompt ending with a (partial) assistant turn
    would have the template close or rewrite that turn around the response."""
    model, tok = qwen
    prompt = [{"role": "user", "content": "Add 2 and 3."}, {"role": "assistant", "content": "<think>\nOk"}]
    with pytest.raises(TemplateError, match="assistant"):
        PromptRenderer(tok, QWEN3).context(prompt, "ay.")
    res = Scorer(model, tok, template=QWEN3).score_one({"id": "a", "prompt": prompt, "response": "ay."})
    assert "prompt[1]" in res.error and "assistant" in res.error
