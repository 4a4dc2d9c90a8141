"""Tiny real-architecture models (Qwen2, Llama) with locally trained byte-level BPE tokenizers.

Built once per session, saved with `save_pretrained` and loaded back from the directory.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch


@pytest.fixture(scope="session")
def qwen(qwen_dir: Path):
    """(model, tokenizer) of the tiny Qwen2 (tied embeddings, chat template), loaded from its directory."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoModelForCausalLM.from_pretrained(
        qwen_dir, dtype=torch.float32
    ).eval(), AutoTokenizer.from_pretrained(qwen_dir)


@pytest.fixture(scope="session")
def llama(llama_dir: Path):
    """(model, tokenizer) of the tiny Llama (untied head, BOS added, no chat template)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoModelForCausalLM.from_pretrained(
        llama_dir, dtype=torch.float32
    ).eval(), AutoTokenizer.from_pretrained(llama_dir)
