"""The context a response is scored in: the prompt rendered with a chat template, or raw.

Modes: "chat" renders the prompt with a Jinja chat template (`add_generation_prompt=True`); a string prompt
becomes one user message. "raw" uses the prompt string as is. The scored string is `context + response`;
when the rendered generation prompt ends with text the response begins with (R1-style templates pre-fill
`<think>\\n`), that text is cut from the context, so the response is always scored verbatim.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

AUTO = "auto"


class TemplateError(ValueError):
    """The prompt could not be rendered (bad messages, or the template raised)."""


@dataclass(frozen=True)
class Context:
    """`text`: the context string before the response. `add_special_tokens`: whether tokenizing
    `text + response` adds the tokenizer's default special tokens (raw mode) or not (chat mode)."""

    text: str
    add_special_tokens: bool


def _messages(prompt: Any) -> list[dict[str, Any]]:
    if isinstance(prompt, str):
        return [{"role": "user", "content": prompt}]
    if isinstance(prompt, list) and prompt:
        for i, m in enumerate(prompt):
            if not isinstance(m, dict) or not isinstance(m.get("role"), str) or "content" not in m:
                raise TemplateError(f"prompt[{i}] must be a message {{role, content}}, got {m!r:.80}")
        if prompt[-1]["role"] == "assistant":
            raise TemplateError(
                f"prompt[{len(prompt) - 1}] is an assistant turn: the response must be the assistant's whole "
                "turn (a template would close or rewrite a partial assistant turn around it)"
            )
        return prompt
    raise TemplateError(
        f"prompt must be a string or a non-empty list of messages, got {type(prompt).__name__}"
    )


def overlap(context: str, response: str, limit: int) -> int:
    """Length of the longest suffix of `context`, at most `limit` long, that is a prefix of `response`."""
    for k in range(min(limit, len(context), len(response)), 0, -1):
        if context.endswith(response[:k]):
            return k
    return 0


class PromptRenderer:
    """Renders prompts for one tokenizer. `template`: "auto" (the tokenizer's chat template when it has one,
    else raw), None (raw), or a Jinja chat template string."""

    def __init__(self, tokenizer: Any, template: str | None = AUTO):
        if template == AUTO:
            template = getattr(tokenizer, "chat_template", None) or None
        if template is not None and not isinstance(template, str):
            raise TypeError(f"template must be 'auto', None or a Jinja string, got {type(template).__name__}")
        self.tokenizer = tokenizer
        self.template = template

    @property
    def mode(self) -> str:
        return "raw" if self.template is None else "chat"

    def _render(self, messages: list[dict[str, Any]], generation: bool) -> str:
        try:
            text = self.tokenizer.apply_chat_template(
                messages, chat_template=self.template, add_generation_prompt=generation, tokenize=False
            )
        except Exception as e:  # a template may raise anything (jinja2 errors, its own raise_exception)
            raise TemplateError(f"chat template failed: {type(e).__name__}: {e}") from e
        if not isinstance(text, str):
            raise TemplateError(f"chat template returned {type(text).__name__}, not a string")
        return text

    def context(self, prompt: Any, response: str) -> Context:
        """The context string for `response` (raises TemplateError)."""
        if self.template is None:
            if not isinstance(prompt, str):
                raise TemplateError("raw mode (no chat template) needs a string prompt, got chat messages")
            return Context(prompt, add_special_tokens=True)
        messages = _messages(prompt)
        full = self._render(messages, generation=True)
        bare = self._render(messages, generation=False)
        generation_len = len(full) - len(bare) if full.startswith(bare) else len(full)
        cut = overlap(full, response, generation_len)
        return Context(full[: len(full) - cut], add_special_tokens=False)
