"""End-to-end step of the GPU check: the Scorer on a Qwen2.5-1.5B-shaped random model over real traces.

Compares, on the same traces (prompt + response, raw mode, bf16): ``rdpt`` (Scorer, whole pipeline),
the ``floor`` (bare trunk forward + the head GEMM, no log-probs at all) and ``hf-naive``
(``model(ids).logits`` + log_softmax + gather). tokens/s counts prompt + response tokens. With
``--dry-run`` everything before the first CUDA call runs (config, a meta-device model for the parameter
count, corpus loading, tokenizer training, trace selection, tokenization) and the plan is returned.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
from typing import Any

import torch

from rdpt_fast.bench.common import find_data_dir, load_corpus, timed
from rdpt_fast.bench.e2e_models import token_ids

#: Qwen2.5-1.5B's shape (random weights: nothing is downloaded).
QWEN25_15B = dict(
    vocab_size=151936, hidden_size=1536, intermediate_size=8960, num_hidden_layers=28,
    num_attention_heads=12, num_key_value_heads=2, max_position_embeddings=32768, tie_word_embeddings=True,
)  # fmt: skip
CORPUS = "thought_anchors_r1_distill_llama8b.jsonl.gz"
TRAIN_CORPUS = "skythought_aime24.jsonl.gz"


def model_config() -> Any:
    """A transformers Qwen2Config with Qwen2.5-1.5B's shape."""
    import transformers

    return transformers.Qwen2Config(**QWEN25_15B)


def attention_implementation() -> str:
    """flash-attn 2 when installed, else PyTorch SDPA."""
    return "flash_attention_2" if importlib.util.find_spec("flash_attn") else "sdpa"


def parameter_count(cfg: Any) -> int:
    """Parameters of the model built from ``cfg`` (on the meta device: no memory, no weights)."""
    import transformers

    with torch.device("meta"):
        model = transformers.AutoModelForCausalLM.from_config(cfg)
    return sum(p.numel() for p in model.parameters())


def prepare(data: str | None, n_traces: int, max_chars: int) -> tuple[Any, list[dict], list[torch.Tensor]]:
    """Tokenizer (byte-level BPE trained on other traces), the chosen traces and their token ids."""
    from rdpt_fast.bench.score import long_traces
    from rdpt_fast.scoring.tiny import train_tokenizer

    folder = find_data_dir(data, (CORPUS, TRAIN_CORPUS))
    tok = train_tokenizer([r["response"] for r in load_corpus(folder / TRAIN_CORPUS)[:100]], 16384)
    traces = long_traces(load_corpus(folder / CORPUS), n_traces, 100, max_chars)
    if not traces:
        raise ValueError(f"no trace of {CORPUS} has 100+ sentences within {max_chars} characters")
    return tok, traces, token_ids(tok, traces)


@torch.inference_mode()
def run(cfg: Any, tok: Any, traces: list[dict], ids: list[torch.Tensor], repeats: int) -> dict[str, Any]:
    """Measure the three methods on a CUDA GPU; returns rows of tokens/s."""
    import transformers

    from rdpt_fast.scoring import Scorer

    with torch.device("cuda"):
        model = transformers.AutoModelForCausalLM.from_config(
            cfg, dtype=torch.bfloat16, attn_implementation=attention_implementation()
        ).eval()
    cuda_ids = [x.cuda()[None] for x in ids]
    weight = model.get_output_embeddings().weight
    recs = [{"id": str(i), "prompt": r["prompt"], "response": r["response"]} for i, r in enumerate(traces)]
    scorer = Scorer(model, tok, template=None, device="cuda")

    def floor() -> None:
        for x in cuda_ids:
            h = model.model(input_ids=x).last_hidden_state[0]
            torch.mm(h, weight.T)

    def naive() -> None:
        for x in cuda_ids:
            lp = torch.log_softmax(model(input_ids=x).logits[0, :-1].float(), -1)
            lp.gather(1, x[0, 1:, None])

    tokens = sum(int(x.numel()) for x in ids)
    rows = []
    for name, fn in (("rdpt", lambda: list(scorer.score(recs))), ("floor", floor), ("hf-naive", naive)):
        seconds, _ = timed(fn, repeats, sync=torch.cuda.synchronize)
        rows.append({"method": name, "seconds": seconds, "tokens": tokens, "tokens_per_s": tokens / seconds})
    by = {r["method"]: r for r in rows}
    return {
        "rows": rows,
        "rdpt_vs_floor": by["rdpt"]["tokens_per_s"] / by["floor"]["tokens_per_s"],
        "rdpt_vs_hf_naive": by["rdpt"]["tokens_per_s"] / by["hf-naive"]["tokens_per_s"],
        "peak_memory_gib": torch.cuda.max_memory_allocated() / 2**30,
    }


def main(argv: list[str] | None = None) -> int:
    """``python -m rdpt_fast.bench.gpu_e2e [--dry-run] [--json FILE]``: prints (and writes) one JSON."""
    p = argparse.ArgumentParser(prog="rdpt_fast.bench.gpu_e2e", description=__doc__.split("\n\n")[0])
    p.add_argument("--data", help="folder of the trace corpora (default: ../shared/data/traces)")
    p.add_argument("--traces", type=int, default=8)
    p.add_argument("--max-chars", type=int, default=12000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--dry-run", action="store_true")
    p.add_argument("--json", help="write the result here too")
    args = p.parse_args(argv)
    cfg = model_config()
    tok, traces, ids = prepare(args.data, args.traces, args.max_chars)
    out: dict[str, Any] = {
        "model": "Qwen2.5-1.5B shape, random weights, bf16",
        "config": QWEN25_15B,
        "parameters": parameter_count(cfg),
        "attention": attention_implementation(),
        "traces": len(traces),
        "tokens": sum(int(x.numel()) for x in ids),
        "corpus": CORPUS,
        "dry_run": args.dry_run,
    }
    if not args.dry_run:
        out |= run(cfg, tok, traces, ids, args.repeats)
    text = json.dumps(out, indent=2)
    print(text)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
