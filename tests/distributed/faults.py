"""Faults injected into the Ray workers of the tests (a Ray `worker_process_setup_hook`).

`install` wraps `Scorer.score` in every worker process: the first worker to see the record `KILL_ID` dies
at once (`os._exit`, as a killed or out-of-memory worker would), once per test cluster (a flag file named by
the environment variable `FLAG_ENV` says it happened); any worker that sees `BOOM_ID` raises.
"""

from __future__ import annotations

import os
from pathlib import Path

KILL_ID = "kill-me"
BOOM_ID = "boom"
FLAG_ENV = "RDPT_TEST_KILLED_FLAG"


def install() -> None:
    from rdpt_fast.scoring.scorer import Scorer

    original = Scorer.score
    flag = Path(os.environ[FLAG_ENV])

    def score(self, records):
        records = list(records)
        ids = {str(r.get("id")) for r in records}
        if KILL_ID in ids and not flag.exists():
            flag.write_text(str(os.getpid()))
            os._exit(1)
        if BOOM_ID in ids:
            raise RuntimeError("injected failure")
        return original(self, records)

    Scorer.score = score
