"""`rdpt-fast` as an lm-evaluation-harness model (extra `rdpt-fast[lm-eval]`).

`RdptLM` is registered as "rdpt-fast" on import (and declared under the `lm_eval.models` entry point).
Tokenization, truncation and rolling windows follow lm-eval's `hf` model, so results match it; the
scoring differs: requests are ordered so that a question's choices are adjacent, and each batch goes
through `SequenceScorer`, which runs a context shared by several choices once and continues its KV
cache with each choice, and takes log-probs and greedy flags from hidden states (no logits).

Command line (lm-eval 0.4 does not load entry points itself): `python -m rdpt_fast.integrations` is
lm_eval's with this model registered, e.g. `--model rdpt-fast --model_args pretrained=DIR --tasks ...`.
"""

from __future__ import annotations

import logging
from typing import Any

from lm_eval import utils
from lm_eval.api.model import TemplateLM
from lm_eval.api.registry import register_model
from lm_eval.models.utils import _add_special_kwargs, has_bos_prefix, resolve_max_length
from tqdm import tqdm

from rdpt_fast.scoring.sequences import SequenceRequest, SequenceScorer

log = logging.getLogger("rdpt_fast.lm_eval")

#: `hf` model arguments that do not change scoring here (accepted, ignored with a log line).
IGNORED_HF_ARGS = frozenset({"parallelize", "use_fast_tokenizer", "revision", "backend", "logits_cache"})


def _batch_limit(batch_size: int | str, max_batch_size: int | None) -> int | None:
    """Contexts (questions, with all their choices) per scoring call: an int batch_size, else ("auto")
    max_batch_size or only the token budget."""
    if isinstance(batch_size, str) and batch_size.startswith("auto"):
        return max_batch_size
    try:
        return max(int(batch_size), 1)
    except (TypeError, ValueError):
        raise ValueError(f"batch_size must be a positive int or 'auto', got {batch_size!r}") from None


@register_model("rdpt-fast")
class RdptLM(TemplateLM):
    """lm-eval model over a local or hub causal LM (safetensors), scoring-only.

    pretrained: model directory or hub id. dtype, device ("auto": cuda when present), trust_remote_code,
    max_length, add_bos_token, prefix_token_id: as lm-eval's `hf` model. max_batch_tokens: token budget of
    one forward pass. mode: "fast", or "reference" (each sequence alone through the whole model, float64
    log_softmax). batch_size / max_batch_size: contexts per scoring call, each with all its continuations
    (a question's choices are never split, so that they share the context's pass); "auto" (default): as
    many as max_batch_tokens holds.
    """

    def __init__(
        self,
        pretrained: str,
        *,
        dtype: str = "auto",
        device: str | None = None,
        trust_remote_code: bool = False,
        max_length: int | None = None,
        add_bos_token: bool | None = None,
        prefix_token_id: int | None = None,
        max_batch_tokens: int = 4096,
        mode: str = "fast",
        batch_size: int | str = "auto",
        max_batch_size: int | None = None,
        **kwargs: Any,
    ):
        super().__init__()
        unknown = sorted(set(kwargs) - IGNORED_HF_ARGS)
        if unknown:
            raise ValueError(f"rdpt-fast lm-eval model: unsupported model_args {', '.join(unknown)}")
        if kwargs:
            log.info("ignoring hf arguments that do not apply: %s", ", ".join(sorted(kwargs)))
        self.scorer = SequenceScorer.load(
            pretrained,
            device=device or "auto",
            dtype=str(dtype),
            trust_remote_code=bool(trust_remote_code),
            mode=mode,
            max_batch_tokens=int(max_batch_tokens),
        )
        self.tokenizer = self.scorer.tokenizer
        self.pretrained = str(pretrained)
        self.add_bos_token = add_bos_token
        self.custom_prefix_token_id = prefix_token_id
        self._max_length = max_length
        self.batch_limit = _batch_limit(batch_size, max_batch_size)

    # -- what TemplateLM needs --------------------------------------------------------------------------
    @property
    def eot_token_id(self) -> int:
        return self.tokenizer.eos_token_id

    @property
    def prefix_token_id(self) -> int:
        if self.custom_prefix_token_id is not None:
            return self.custom_prefix_token_id
        bos = self.tokenizer.bos_token_id
        return bos if bos is not None else self.tokenizer.eos_token_id

    @property
    def max_length(self) -> int:
        return self._max_length or resolve_max_length(self.scorer.model.config, self.tokenizer)

    @property
    def tokenizer_name(self) -> str:
        return self.pretrained.replace("/", "__")

    def tok_encode(self, string: str, add_special_tokens: bool | None = None, **kwargs: Any) -> list[int]:
        """As lm-eval's `hf` model: the tokenizer's default special tokens unless told, none when the
        string already starts with the prefix token."""
        special = _add_special_kwargs(add_special_tokens, self.add_bos_token)
        if add_special_tokens is None and has_bos_prefix(string, self.tokenizer.decode(self.prefix_token_id)):
            special["add_special_tokens"] = False
        return self.tokenizer.encode(string, **special)

    def apply_chat_template(
        self, chat_history: list[dict[str, str]], add_generation_prompt: bool = True
    ) -> str:
        return self.tokenizer.apply_chat_template(
            chat_history, tokenize=False, add_generation_prompt=add_generation_prompt
        )

    def _loglikelihood_tokens(
        self, requests: list[tuple[Any, list[int], list[int]]], disable_tqdm: bool = False, **kwargs: Any
    ) -> list[tuple[float, bool]]:
        """(sum of continuation log-probs, continuation is greedy) per request, in order."""
        seqs = [(ctx + cont)[-(self.max_length + 1) :] for _, ctx, cont in requests]
        contexts = [s[: len(s) - len(r[2])] for s, r in zip(seqs, requests)]
        # Longest context first (little padding), equal contexts side by side (they share a pass).
        order = sorted(range(len(seqs)), key=lambda i: (-len(contexts[i]), contexts[i], seqs[i]))
        results: list[tuple[float, bool] | None] = [None] * len(seqs)
        bar = tqdm(total=len(seqs), disable=disable_tqdm, desc="rdpt-fast loglikelihood")
        for chunk in self._chunks(order, seqs, contexts):
            scores = self.scorer.score([SequenceRequest(seqs[i]) for i in chunk])
            for i, s in zip(chunk, scores):
                n = len(requests[i][2])
                answer = (float(s.logprobs[-n:].astype("float64").sum()), bool(s.greedy[-n:].all()))
                results[i] = answer
                if requests[i][0] is not None:
                    self.cache_hook.add_partial("loglikelihood", requests[i][0], answer)
            bar.update(len(chunk))
        bar.close()
        return results  # type: ignore[return-value]

    def _chunks(self, order: list[int], seqs: list[list[int]], contexts: list[list[int]]) -> list[list[int]]:
        """`order` cut into scoring calls of at most max_batch_tokens tokens and batch_limit contexts."""
        chunks: list[list[int]] = []
        current: list[int] = []
        tokens = n_contexts = 0
        for i in order:
            new_context = not current or contexts[i] != contexts[current[-1]]
            full = new_context and self.batch_limit is not None and n_contexts >= self.batch_limit
            if current and (full or tokens + len(seqs[i]) > self.scorer.max_batch_tokens):
                chunks.append(current)
                current, tokens, n_contexts = [], 0, 0
            n_contexts += not current or new_context
            current.append(i)
            tokens += len(seqs[i])
        if current:
            chunks.append(current)
        return chunks

    def loglikelihood_rolling(self, requests: list[Any], disable_tqdm: bool = False) -> list[float]:
        """Log-likelihood of whole documents, in lm-eval's `hf` rolling windows of max_length tokens."""
        windows, owner = [], []
        for r, (string,) in enumerate(req.args for req in requests):
            rolling = utils.get_rolling_token_windows(
                token_list=self.tok_encode(string),
                prefix_token=self.prefix_token_id,
                max_seq_len=self.max_length,
                context_len=1,
            )
            for ctx, cont in map(utils.make_disjoint_window, rolling):
                windows.append((None, ctx, cont))
                owner.append(r)
        scores = self._loglikelihood_tokens(windows, disable_tqdm=disable_tqdm)
        totals = [0.0] * len(requests)
        for r, (logprob, _) in zip(owner, scores):
            totals[r] += logprob
        for req, total in zip(requests, totals):
            self.cache_hook.add_partial("loglikelihood_rolling", req.args, total)
        return totals

    def generate_until(self, requests: list[Any], disable_tqdm: bool = False) -> list[str]:
        raise NotImplementedError(
            "rdpt-fast is a scoring-only backend: generate_until (generation tasks) is not supported; "
            "run loglikelihood tasks (multiple choice, perplexity) with it, or generate with another model"
        )
