"""The output folder of a run: file names, `run.json`, and the manifest of completed shards.

A shard is complete when its file has been renamed into place *and* the manifest lists it; the manifest
is a journal appended (and fsynced) after each shard. A file the manifest does not list (a kill between
the rename and the manifest write) is redone, and overwritten by a file with the same name, so nothing is
duplicated. `run.json` holds the settings a folder was written with; a rerun with other scoring
settings is refused (unless `overwrite`).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rdpt_fast.writers import fsync_dir

logger = logging.getLogger("rdpt_fast")

RUN_JSON = "run.json"
MANIFEST = "manifest.jsonl"
REJECTS = "rejects.jsonl"
SENTENCES = "sentences"
RECORDS = "records"
SCORES = "scores"
SEGMENTS = "segments"
LOCK = ".lock"
JOIN = "join"  # manifest stage name of the sentences + records shards (score: sentences only)
SEGMENTS_STAGE = "segments"  # manifest stage name of the segments shards
#: Version of the folder layout, in run.json's settings. 2: segments/ computed once per run, score runs in
#: the same layout as trace and select. A folder of another layout is not resumed.
LAYOUT = 2


def write_json(path: Path, value: Any) -> None:
    """Write JSON to `path` atomically and durably (temporary file, fsync, rename, fsync of the folder)."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=2, sort_keys=False, default=str)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def read_json(path: Path) -> Any:
    """The JSON value in `path`; ValueError naming the file when it is damaged (truncated, not UTF-8)."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(
            f"{path} is damaged ({e}); rerun with --overwrite to start the folder over"
        ) from None


def shard_name(index: int) -> str:
    return f"part-{index:05d}.parquet"


class RunFolder:
    """Paths and bookkeeping of one output folder.

    The manifest is a journal (`manifest.jsonl`): one JSON line per event, appended and fsynced, so that
    marking a shard costs O(1) however many shards a run has. Events: {"stage", "chunk", "files", ...}
    marks a shard complete (a later line for the same shard replaces it), {"num_chunks": n} records the
    number of chunks of the input, {"drop": stage} forgets a stage. A torn last line (a kill while
    appending) is ignored.
    """

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.manifest: dict[str, Any] = {"stages": {}, "num_chunks": None}
        self._lock = threading.Lock()  # model passes on several devices mark shards concurrently
        self._owner: Any = None  # the open, flock-ed .lock file while this process writes the folder

    # -- paths ------------------------------------------------------------------------------------------
    def segments_path(self, chunk: int) -> Path:
        return self.root / SEGMENTS / shard_name(chunk)

    def scores_path(self, role: str, chunk: int) -> Path:
        return self.root / SCORES / role / shard_name(chunk)

    def sentences_path(self, chunk: int) -> Path:
        return self.root / SENTENCES / shard_name(chunk)

    def records_path(self, chunk: int) -> Path:
        return self.root / RECORDS / shard_name(chunk)

    @property
    def run_json(self) -> Path:
        return self.root / RUN_JSON

    @property
    def journal(self) -> Path:
        return self.root / MANIFEST

    @property
    def rejects(self) -> Path:
        return self.root / REJECTS

    # -- lifecycle --------------------------------------------------------------------------------------
    def open(
        self,
        settings: Mapping[str, Any],
        *,
        scoring_keys: tuple[str, ...],
        join_keys: tuple[str, ...],
        overwrite: bool,
    ) -> None:
        """Create the folder, or resume it. `settings[k]` for k in `scoring_keys` must equal what the folder
        was written with (ValueError naming the first difference); when a setting in `join_keys` changed
        the join stage is redone; other settings (thresholds) are applied by relabelling."""
        self.acquire()
        if overwrite and self.root.exists():
            for name in (SEGMENTS, SCORES, SENTENCES, RECORDS, MANIFEST, RUN_JSON, REJECTS):
                target = self.root / name
                if target.is_dir():
                    shutil.rmtree(target)
                elif target.exists():
                    target.unlink()
        self.root.mkdir(parents=True, exist_ok=True)
        for stale in self.root.rglob(".*.tmp-*"):  # left by a killed run: never renamed into place
            stale.unlink()
        if self.run_json.exists() and self.journal.exists():
            self._repair_tail()
            self.load()
            for path in self.verify_shards():
                logger.warning("%s does not open (damaged or truncated); it is redone", path)
            before = read_json(self.run_json).get("settings", {})
            if self.manifest["stages"]:  # a run that wrote no shard yet can start over with any settings
                check_settings(self.root, before, settings, scoring_keys)
            if any(_normal(before.get(k)) != _normal(settings.get(k)) for k in join_keys):
                self._append({"drop": JOIN})
        else:
            self.journal.unlink(missing_ok=True)
            self._append({"created": True})

    def acquire(self) -> None:
        """Take the folder's lock (an exclusive flock on OUT/.lock, held until `release` or the process
        ends); ValueError when another process is writing to the folder."""
        if self._owner is not None:
            return
        self.root.mkdir(parents=True, exist_ok=True)
        handle = open(self.root / LOCK, "a")  # noqa: SIM115 (held open: the lock lives as long as the file)
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise ValueError(f"{self.root}: another rdpt-fast run is writing to this folder") from None
        self._owner = handle

    def release(self) -> None:
        """Give the folder's lock back."""
        if self._owner is not None:
            self._owner.close()  # closing the file drops the flock
            self._owner = None

    def load(self) -> None:
        """Replay the journal into `self.manifest`. A torn last line (a kill while appending) is ignored;
        a damaged line before it is a ValueError naming the file and line."""
        self.manifest = {"stages": {}, "num_chunks": None}
        lines = self.journal.read_bytes().split(b"\n")
        complete = len(lines) - 1  # the part after the last newline is empty, or a torn line
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            try:
                event = json.loads(raw.decode("utf-8"))
                if not isinstance(event, dict):
                    raise ValueError(f"expected a JSON object, got {type(event).__name__}")
                self._apply(event)
            except (ValueError, KeyError, TypeError) as e:  # JSON and UTF-8 errors are ValueErrors
                if number > complete:
                    continue
                raise ValueError(
                    f"{self.journal}:{number}: damaged manifest entry ({e}); rerun with --overwrite to start "
                    "the folder over"
                ) from None

    def _apply(self, event: dict[str, Any]) -> None:
        if "stage" in event:
            chunk, files = event["chunk"], event["files"]
            if not isinstance(chunk, int) or not isinstance(files, list):
                raise ValueError("a shard entry needs an integer 'chunk' and a list of 'files'")
            self.manifest["stages"].setdefault(str(event["stage"]), {})[str(chunk)] = event
        elif "num_chunks" in event:
            self.manifest["num_chunks"] = int(event["num_chunks"])
        elif "drop" in event:
            self.manifest["stages"].pop(event["drop"], None)
        elif "redo" in event:
            self.manifest["stages"].get(event["redo"], {}).pop(str(event["chunk"]), None)

    def _repair_tail(self) -> None:
        """Cut a torn last line (a kill while appending), so that the next event starts on its own line."""
        data = self.journal.read_bytes()
        if data and not data.endswith(b"\n"):
            with open(self.journal, "r+b") as f:
                f.truncate(data.rfind(b"\n") + 1)
                os.fsync(f.fileno())

    def verify_shards(self) -> list[Path]:
        """Forget every journaled Parquet shard that does not open (e.g. truncated by a power loss before
        its data reached the disk), so that it is redone; returns their paths."""
        import pyarrow.parquet as pq

        damaged = []
        for stage, entries in list(self.manifest["stages"].items()):
            for chunk, entry in list(entries.items()):
                paths = [self.root / f for f in entry["files"] if str(f).endswith(".parquet")]
                bad = [p for p in paths if p.exists() and not _opens(pq, p)]
                if bad:
                    damaged += bad
                    self._append({"redo": stage, "chunk": int(chunk)})
        return damaged

    def _append(self, event: dict[str, Any]) -> None:
        line = json.dumps(event, default=str) + "\n"
        with open(self.journal, "a", encoding="utf-8") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())
        self._apply(event)

    def done(self, stage: str) -> set[int]:
        """Chunks of `stage` that are complete: marked in the manifest with all their files present."""
        entries = self.manifest["stages"].get(stage, {})
        return {int(k) for k, v in entries.items() if all((self.root / f).exists() for f in v["files"])}

    def mark(self, stage: str, chunk: int, files: list[Path], **info: Any) -> None:
        """Record chunk `chunk` of `stage` as complete; `files` are the shards it wrote."""
        rel = [str(Path(f).relative_to(self.root)) for f in files]
        with self._lock:
            self._append({**info, "stage": stage, "chunk": chunk, "files": rel})

    def entry(self, stage: str, chunk: int) -> dict[str, Any]:
        """The manifest event that marked chunk `chunk` of `stage` (with its extra info)."""
        return self.manifest["stages"][stage][str(chunk)]

    def set_num_chunks(self, count: int) -> None:
        with self._lock:
            if self.manifest.get("num_chunks") != count:
                self._append({"num_chunks": count})

    @property
    def num_chunks(self) -> int | None:
        return self.manifest.get("num_chunks")


def check_settings(
    root: Path, before: Mapping[str, Any], settings: Mapping[str, Any], keys: tuple[str, ...]
) -> None:
    """ValueError naming the first of `keys` whose value differs between the folder's settings `before` and
    the run's `settings` (a folder of another layout or kind of run is named as such)."""
    hint = "rerun with --overwrite or choose another --output"
    if before.get("layout") != settings.get("layout"):
        raise ValueError(
            f"{root} was written by another version of rdpt-fast (folder layout {before.get('layout', 1)}, "
            f"this version writes layout {settings.get('layout')}); its tables can still be read and "
            f"reported, but not resumed: {hint}"
        )
    if before.get("kind") != settings.get("kind"):
        raise ValueError(f"{root} holds a {before.get('kind')} run, not a {settings.get('kind')} run; {hint}")
    for key in keys:
        if _normal(before.get(key)) != _normal(settings.get(key)):
            raise ValueError(
                f"{root} was written with other settings ({key}: {before.get(key)!r}, now "
                f"{settings.get(key)!r}); {hint}"
            )


def _opens(pq: Any, path: Path) -> bool:
    try:
        pq.read_metadata(path)
    except Exception:  # any damage: pyarrow raises ArrowInvalid, OSError, ...
        return False
    return True


def _normal(value: Any) -> Any:
    """Settings compared as JSON (tuples and lists alike, paths as strings)."""
    return json.loads(json.dumps(value, default=str))
