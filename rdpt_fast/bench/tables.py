"""Markdown tables for the README, rendered from saved benchmark results (never typed by hand)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def segment_table(results: dict[str, Any]) -> str:
    """The segmentation results as a Markdown table: throughput (median and best run; the best is the
    better estimate on a loaded machine), ratios of medians measured in the same run, and the
    boundaries each segmenter puts inside math and inside code fences of the quality sample."""
    rows = results["rows"]
    bling = next((r for r in rows if r["impl"].startswith("blingfire C")), None)
    m, corpus, q = results["machine"], results["corpus"], results["quality"]
    load = results["load_average_1m"]
    note = f" {results['note']}." if results.get("note") else ""
    lines = [
        f"Segmentation, {m['cpu']} ({m['cores']} cores), {results['date'][:10]}, `{results['command']}`; "
        f"1-minute load average {load['before']:.1f} before, {load['after']:.1f} after.{note} "
        f"Median of runs on samples of the real traces: {corpus['fast_mb']:.1f} MB (fast), "
        f"{corpus['slow_mb']:.1f} MB (slow), {corpus['slowest_mb']:.2f} MB (slowest). "
        f"Boundary counts on {q['traces']} traces "
        f"({q['chars'] / 1e6:.1f} M characters) holding {q['math_regions']:,} math regions and "
        f"{q['code_fences']} code fences (rule 2 of SEGMENTATION.md, version 2).",
        "",
        "| implementation | sample | MB/s (median) | MB/s (best run) | x blingfire C call | boundaries "
        "| inside math | inside code |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        vs_bling = f"{r['mb_per_s'] / bling['mb_per_s']:.1f}" if bling else "-"
        lines.append(
            f"| {r['impl']} | {r['tier']} | {r['mb_per_s']:.2f} | {r['mb'] / r['min_s']:.2f} | {vs_bling} "
            f"| {r['boundaries']:,} | {r['in_math']:,} | {r['in_code']:,} |"
        )
    return "\n".join(lines)


def head_table(results: dict[str, Any]) -> str:
    from rdpt_fast.bench.head import render_markdown

    return render_markdown(results).rstrip("\n")


def serve_table(results: dict[str, Any]) -> str:
    from rdpt_fast.bench.serve import serve_table as render

    return render(results)


def score_table(results: dict[str, Any]) -> str:
    """Scoring throughput per test model: (a) per-sentence re-encoding, (b) naive full logits, (c) ours,
    and K responses per prompt with and without prompt sharing."""
    m = results["machine"]
    cfg = results["config"]
    lines = [
        f"Scoring, {m['device_name']}, {results['date'][:10]}, `{results['command']}`; {cfg['dtype']}, "
        f"{cfg['torch_threads']} torch thread(s), tokenizer: {cfg['tokenizer']}; traces: {cfg['traces']}.",
        "",
        "| model | (a) per-sentence tok/s | (b) naive full logits tok/s | (c) rdpt tok/s | (c)/(a) | (c)/(b) "
        "| K | sharing speed-up | ideal | % of ideal |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, entry in results["models"].items():
        rows = {r["method"]: r["tokens_per_s"] for r in entry["methods"]["rows"]}
        meth, sh = entry["methods"], entry["sharing"]
        cells = [
            f"{name}: {entry['config']}",
            f"{rows['per-sentence']:,.0f}",
            f"{rows['naive-full-logits']:,.0f}",
            f"{rows['rdpt']:,.0f}",
            f"{meth['speedup_vs_per_sentence']:.1f}x",
            f"{meth['speedup_vs_naive']:.2f}x",
            str(sh["k"]),
            f"{sh['speedup']:.2f}x",
            f"{sh['ideal_speedup']:.2f}x",
            f"{100 * sh['fraction_of_ideal']:.0f}%",
        ]
        lines.append(f"| {' | '.join(cells)} |")
    return "\n".join(lines)


def trace_table(results: dict[str, Any]) -> str:
    """End-to-end trace against the scoring floor, with the no-model steps."""
    m, cfg = results["machine"], results["config"]
    models = "; ".join(f"{role}: {desc}" for role, desc in cfg["models"].items())
    lines = [
        f"trace, {m['device_name']}, {results['date'][:10]}, `{results['command']}`; "
        f"{cfg['traces']} traces of {cfg['corpus']} cut to {cfg['max_chars']} characters "
        f"({results['tokens']:,} tokens over the three models, {results['sentences']:,} sentences), "
        f"chunks of {cfg['chunk_records']} records, "
        f"{cfg['torch_threads']} torch thread(s); {models}; medians.",
        "",
        "| step | median s | x scoring floor |",
        "|---|---:|---:|",
    ]
    for row in results["rows"]:
        lines.append(f"| {row['step']} | {row['seconds']:.2f} | {row['vs_floor']:.2f} |")
    return "\n".join(lines)


def _mib(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def e2e_table(results: dict[str, Any]) -> str:
    """End to end at real model shapes, from one run: the Scorer against the trunk + head-GEMM floor and
    the naive pipeline, where its time goes, prompt sharing ("auto") against none, and thread counts."""
    m, cfg, shapes = results["machine"], results["config"], results["shapes"]
    lines = [
        f"End to end, {m['device_name']}, {results['date'][:10]}, `{results['command']}`; {cfg['dtype']}, "
        f"{cfg['torch_threads']} torch thread(s), random weights, tokenizer: {cfg['tokenizer']}; medians.",
        "",
        "| shape | tokens | trunk tok/s | floor tok/s | naive tok/s | rdpt tok/s | rdpt time / floor "
        "| naive time / rdpt | peak extra MiB: naive | rdpt |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, entry in shapes.items():
        sc, tps = entry["scoring"], entry["scoring"]["tokens_per_s"]
        mem = sc.get("peak_extra_mib", {})
        cells = [
            name, f"{sc['tokens']:,}", f"{tps['trunk']:,.0f}", f"{tps['floor']:,.0f}", f"{tps['naive']:,.0f}",
            f"{tps['rdpt']:,.0f}", f"{sc['rdpt_over_floor']:.2f}x", f"{sc['naive_over_rdpt']:.2f}x",
            _mib(mem.get("naive")), _mib(mem.get("rdpt")),
        ]  # fmt: skip
        lines.append(f"| {' | '.join(cells)} |")
    staged = {n: e["scoring"] for n, e in shapes.items() if "stages" in e["scoring"]}
    if staged:
        lines += [
            "",
            "Where rdpt's time goes (seconds of one call; the bare trunk and the head GEMM alone beside):",
            "",
            "| shape | rdpt | trunk passes | bare trunk | head + reduction | head GEMM alone | other "
            "| preparation thread CPU (overlapped) | padded tokens |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for name, sc in staged.items():
            st, sec = sc["stages"], sc["seconds"]
            cells = [
                name, f"{st['total']:.2f}", f"{st['trunk']:.2f}", f"{sec['trunk']:.2f}", f"{st['head']:.2f}",
                f"{sec['head_gemm']:.2f}", f"{st['other']:.3f}", f"{st['prepare_thread_cpu']:.3f}",
                f"{sc.get('padded_tokens', 0):,}",
            ]  # fmt: skip
            lines.append(f"| {' | '.join(cells)} |")
    lines += [
        "",
        'Prompt sharing, K responses to one prompt (`share_prompts="auto"` against `False`):',
        "",
        "| shape | K | prompt / response tokens | unshared s | auto s | speed-up | ideal | % of ideal |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, entry in shapes.items():
        sh = entry["sharing"]
        cells = [
            name, str(sh["k"]), f"{sh['prompt_tokens']:.0f} / {sh['response_tokens']:.0f}",
            f"{sh['unshared']['seconds']:.2f}", f"{sh['auto']['seconds']:.2f}",
            f"{sh['speedup']:.2f}x", f"{sh['ideal_speedup']:.2f}x", f"{100 * sh['fraction_of_ideal']:.0f}%",
        ]  # fmt: skip
        lines.append(f"| {' | '.join(cells)} |")
    threaded = {n: e["threads"] for n, e in shapes.items() if "threads" in e}
    if threaded:
        lines += [
            "",
            "Torch threads (one trace; the preparation thread runs beside the matmuls):",
            "",
            "| shape | tokens | torch threads | floor s | rdpt s | rdpt time / floor "
            "| preparation thread CPU s |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for name, th in threaded.items():
            for n, row in th["by_threads"].items():
                cells = [
                    name, f"{th['tokens']:,}", n, f"{row['floor']:.2f}", f"{row['rdpt']:.2f}",
                    f"{row['rdpt_over_floor']:.2f}x", f"{row['prepare_thread_cpu']:.3f}",
                ]  # fmt: skip
                lines.append(f"| {' | '.join(cells)} |")
    return "\n".join(lines)


def compile_table(results: dict[str, Any]) -> str:
    """The ahead-of-time compile check per target: counts, then one row per kernel x dtype x config with
    the worst case over the feature flags (registers, spill bytes, shared memory) and the MMA class."""
    lines = [
        f"Compile check (no GPU: `triton.compile` + ptxas, triton {results['triton_version']}), "
        f"{results['date'][:10]}, `{results['command']}`; {results['subset']} sweep.",
    ]
    for arch, counts in results["summary"].items():
        rows = [r for r in results["rows"] if r["arch"] == arch]
        groups: dict[tuple, list[dict[str, Any]]] = {}
        for r in rows:
            groups.setdefault((r["kernel"].split(":")[1].strip("_"), r["dtype"], r["config"]), []).append(r)
        mma = ", ".join(
            f"{k} {v}" for k, v in counts.items() if k in ("wgmma", "tcgen05", "mma.sync", "FFMA")
        )
        lines += [
            "",
            f"**{arch}**: {counts['variants']} variants, {counts['ok']} compiled, {counts['errors']} errors, "
            f"{counts['spilling']} with spills; MMA class: {mma}.",
            "",
            "| kernel | dtype | config | tile VxNxH | warps/stages | autotune picks it for N | max regs "
            "| max spill bytes | smem KiB | MMA |",
            "|---|---|---|---|---|---|---:|---:|---:|---|",
        ]
        for (kernel, dtype, config), grp in groups.items():
            ok = [r for r in grp if r["ok"]]
            c, first = grp[0]["constexprs"], grp[0]
            tile = f"{c['BLOCK_V']}x{c['BLOCK_N']}x{c['BLOCK_H']}" if "BLOCK_N" in c else "-"
            if not ok:
                lines.append(f"| {kernel} | {dtype} | {config} | {tile} | | | compile error | | | |")
                continue
            cells = [
                kernel, dtype, config, tile, f"{first['num_warps']}/{first['num_stages']}",
                ", ".join(first["pickable"]) or "-", str(max(r["n_regs"] or 0 for r in ok)),
                str(max(r["n_spills"] or 0 for r in ok)), f"{max(r['shared'] for r in ok) / 1024:.0f}",
                "/".join(sorted({r["mma"] for r in ok})),
            ]  # fmt: skip
            lines.append(f"| {' | '.join(cells)} |")
    return "\n".join(lines)


RENDERERS = {
    "segment": segment_table,
    "head": head_table,
    "score": score_table,
    "trace": trace_table,
    "e2e": e2e_table,
    "compile": compile_table,
    "serve": serve_table,
}


def latest_results(results_dir: Path, benchmark: str) -> list[dict[str, Any]]:
    """The newest saved results of `benchmark`, one per device kind (file name `<bench>-<device>-<date>`)."""
    newest: dict[str, tuple[str, dict[str, Any]]] = {}
    for path in sorted(results_dir.glob(f"{benchmark}-*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        device = data["machine"].get("device", "cpu")
        if device not in newest or data["date"] >= newest[device][0]:
            newest[device] = (data["date"], data)
    return [d for _, d in sorted(newest.values(), key=lambda x: x[1]["machine"].get("device", ""))]


def update_readme(readme: Path, results_dir: Path, renderers: dict[str, Any] | None = None) -> bool:
    """Replace each `<!-- bench:NAME -->` ... `<!-- /bench:NAME -->` block of `readme` with the
    table(s) of the newest results. Returns True when the file changed."""
    renderers = RENDERERS if renderers is None else renderers
    text = original = readme.read_text(encoding="utf-8")
    for name, render in renderers.items():
        start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
        if start not in text or end not in text:
            continue
        found = latest_results(results_dir, name)
        body = "\n\n".join(render(r) for r in found) if found else f"(no `{name}` results saved yet)"
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        text = f"{head}{start}\n{body}\n{end}{tail}"
    if text != original:
        readme.write_text(text, encoding="utf-8")
    return text != original
