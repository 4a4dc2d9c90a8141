"""Tiny causal LMs with random weights and locally trained tokenizers, for tests and CPU benchmarks.

Nothing is downloaded: the tokenizer is a byte-level BPE trained on the given texts with the `tokenizers`
library and wrapped as a `PreTrainedTokenizerFast`; the model is a real transformers architecture built
from a config with seeded random weights.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch

SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>")

#: A ChatML-like template that pre-fills "<think>\n" after the assistant header (R1 style).
THINK_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n<think>\n{% endif %}"
)


def train_tokenizer(
    texts: Iterable[str], vocab_size: int, *, bos: bool = False, chat_template: str | None = None
):
    """A fast byte-level BPE tokenizer trained on `texts` (special tokens: SPECIAL_TOKENS). With `bos`, every
    encoding starts with <|endoftext|> (Llama-style); `chat_template` is set when given."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer)
    if bos:
        bos_id = tok.token_to_id(SPECIAL_TOKENS[0])
        tok.post_processor = processors.TemplateProcessing(
            single=f"{SPECIAL_TOKENS[0]} $A", special_tokens=[(SPECIAL_TOKENS[0], bos_id)]
        )
    else:
        tok.post_processor = processors.ByteLevel(trim_offsets=False)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=SPECIAL_TOKENS[0],
        eos_token=SPECIAL_TOKENS[2],
        pad_token=SPECIAL_TOKENS[0],
    )
    if chat_template is not None:
        fast.chat_template = chat_template
    return fast


def random_model(
    architecture: str,
    vocab_size: int,
    *,
    hidden_size: int = 64,
    num_layers: int = 2,
    num_heads: int = 4,
    num_kv_heads: int = 2,
    max_positions: int = 4096,
    seed: int = 0,
    init_std: float = 0.08,
    **config: Any,
) -> torch.nn.Module:
    """A float32 causal LM ("qwen2", "llama", "gemma2" or "cohere") with seeded normal(0, init_std) matrices
    (larger than the default init, so token log-probs vary visibly). Extra keywords go to the config."""
    import transformers

    classes = {
        "qwen2": transformers.Qwen2Config,
        "llama": transformers.LlamaConfig,
        "gemma2": transformers.Gemma2Config,
        "cohere": transformers.CohereConfig,
    }
    cfg = classes[architecture](
        vocab_size=vocab_size,
        hidden_size=hidden_size,
        intermediate_size=2 * hidden_size,
        num_hidden_layers=num_layers,
        num_attention_heads=num_heads,
        num_key_value_heads=num_kv_heads,
        max_position_embeddings=max_positions,
        **config,
    )
    torch.manual_seed(seed)
    model = transformers.AutoModelForCausalLM.from_config(cfg)
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() == 2:
                p.normal_(0.0, init_std)
    return model.eval()


def save_and_reload(model: torch.nn.Module, tokenizer: Any, path: str | Path):
    """`save_pretrained` both into `path` and load them back from the directory (float32)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    loaded = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).eval()
    return loaded, AutoTokenizer.from_pretrained(path)
