"""Labels after the join: beta chosen from the d_TS of a whole folder, relabelling with other thresholds
(`classify_folder`, no model), and the folder's totals."""

from __future__ import annotations

import datetime as _dt
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from rdpt_fast.engine.config import Beta, RunConfig
from rdpt_fast.engine.folder import JOIN, RunFolder, read_json, write_json
from rdpt_fast.engine.join_pass import write_tables
from rdpt_fast.engine.result import RunResult
from rdpt_fast.engine.schemes import SCHEMES, Scheme
from rdpt_fast.rdpt.adaptive import AdaptiveBeta, abs_dts_histogram, adaptive_beta
from rdpt_fast.rdpt.join import apply_labels, count_fields, with_counts


def now() -> str:
    """The time, for run.json."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def joined_chunks(folder: RunFolder) -> list[int]:
    return sorted(folder.done(JOIN))


def dts_histogram(folder: RunFolder, include_markers: bool) -> np.ndarray:
    """|d_TS| histogram over every joined sentence (markers excluded unless `include_markers`)."""
    total = np.zeros(0, dtype=np.int64)
    for chunk in joined_chunks(folder):
        table = pq.read_table(folder.sentences_path(chunk), columns=["d_ts", "kind"])
        d_ts = table.column("d_ts").to_numpy(zero_copy_only=False).astype(np.float64)
        if not include_markers:
            d_ts = d_ts[np.asarray(table.column("kind").to_pylist(), dtype=object) != "marker"]
        counts = abs_dts_histogram(d_ts)
        total = counts if total.size == 0 else total + counts
    if total.size == 0 or total.sum() == 0:
        raise ValueError(f"{folder.root}: no scored sentence, so beta cannot be chosen adaptively")
    return total


def choose_beta(folder: RunFolder, beta: Beta, include_markers: bool) -> tuple[float, AdaptiveBeta | None]:
    """The threshold to label with: `beta`, or the adaptive rule's over the folder when "auto"."""
    if beta != "auto":
        return float(beta), None
    adaptive = adaptive_beta(counts=dts_histogram(folder, include_markers))
    return adaptive.beta, adaptive


def relabel_folder(
    folder: RunFolder, scheme: Scheme, alpha: float, beta: float, include_markers: bool
) -> int:
    """Relabel every joined chunk whose labels were made with other thresholds; returns how many."""
    count_names = [name for name, _ in count_fields(scheme)]
    changed = 0
    for chunk in joined_chunks(folder):
        entry = folder.entry(JOIN, chunk)
        if entry["alpha"] == alpha and entry["beta"] == beta and entry["include_markers"] == include_markers:
            continue
        sentences = apply_labels(pq.read_table(folder.sentences_path(chunk)), scheme, alpha=alpha, beta=beta)
        records = pq.read_table(folder.records_path(chunk)).drop_columns(count_names)
        records = with_counts(records, sentences, scheme, include_markers=include_markers)
        written = write_tables(folder, chunk, {"sentences": sentences, "records": records})
        kept = {k: v for k, v in entry.items() if k not in ("files", "stage", "chunk")}
        folder.mark(
            JOIN, chunk, written, **{**kept, "alpha": alpha, "beta": beta, "include_markers": include_markers}
        )
        changed += 1
    return changed


def folder_totals(folder: RunFolder, scheme: Scheme) -> dict[str, Any]:
    """Records, sentences and label counts (markers excluded unless counted) over the folder."""
    if not scheme.labelled:
        entries = [folder.entry(JOIN, c) for c in joined_chunks(folder)]
        return {
            "records": sum(e["records"] for e in entries),
            "sentences": sum(e["sentences"] for e in entries),
            "labels": {},
        }
    labels = {name: 0 for name in scheme.labels}
    records = sentences = 0
    for chunk in joined_chunks(folder):
        table = pq.read_table(
            folder.records_path(chunk), columns=["num_sentences"] + [f"n_{n}" for n in labels]
        )
        records += table.num_rows
        sentences += int(np.asarray(table.column("num_sentences")).sum()) if table.num_rows else 0
        for name in labels:
            labels[name] += int(np.asarray(table.column(f"n_{name}")).sum()) if table.num_rows else 0
    return {"records": records, "sentences": sentences, "labels": labels}


def load_run(output: str | Path) -> tuple[RunFolder, dict[str, Any], Scheme]:
    """An existing, complete run folder: (folder, run.json, scheme); ValueError when it is not one."""
    folder = RunFolder(output)
    if not folder.run_json.exists() or not folder.journal.exists():
        raise ValueError(f"{folder.root}: not an rdpt-fast run folder (no run.json / manifest.jsonl)")
    info = read_json(folder.run_json)
    if info.get("kind") not in SCHEMES:
        raise ValueError(f"{folder.run_json}: unknown kind of run {info.get('kind')!r}")
    if not info.get("complete"):
        raise ValueError(f"{folder.root}: the run is not complete; rerun its command to finish it")
    folder.load()
    return folder, info, SCHEMES[info["kind"]]


def classify_folder(
    output: str | Path,
    *,
    alpha: float | None = None,
    beta: Beta | None = None,
    include_markers: bool | None = None,
) -> RunResult:
    """Relabel a complete trace or select folder with other thresholds, in place, without any model.
    Unset arguments keep the folder's values. The folder is locked meanwhile."""
    folder, info, scheme = load_run(output)
    if not scheme.labelled:
        raise ValueError(f"{folder.root}: a {scheme.kind} folder has no labels to recompute")
    folder.acquire()
    try:
        return _relabel_run(folder, info, scheme, alpha, beta, include_markers)
    finally:
        folder.release()


def _relabel_run(
    folder: RunFolder,
    info: dict[str, Any],
    scheme: Scheme,
    alpha: float | None,
    beta: Beta | None,
    include_markers: bool | None,
) -> RunResult:
    t0 = time.perf_counter()
    settings = info["settings"]
    alpha = settings["alpha"] if alpha is None else alpha
    beta = settings["beta"] if beta is None else beta
    include_markers = settings["include_markers"] if include_markers is None else include_markers
    RunConfig(alpha=alpha, beta=beta)  # checks the thresholds
    beta_value, adaptive = choose_beta(folder, beta, include_markers)
    relabel_folder(folder, scheme, alpha, beta_value, include_markers)
    totals = folder_totals(folder, scheme)
    settings.update(alpha=alpha, beta=beta, include_markers=include_markers)
    rejected = info.get("counts", {}).get("rejected", 0)
    info.update(
        alpha=alpha,
        beta=beta_value,
        beta_mode="auto" if adaptive else "fixed",
        adaptive=adaptive.to_dict() if adaptive else None,
        counts={**totals, "rejected": rejected},
        updated=now(),
    )
    write_json(folder.run_json, info)
    return RunResult(
        folder.root,
        scheme.kind,
        alpha,
        beta_value,
        adaptive,
        totals["records"],
        totals["sentences"],
        rejected,
        totals["labels"],
        time.perf_counter() - t0,
    )
