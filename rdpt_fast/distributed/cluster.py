"""Joining a Ray cluster and sizing the actor pool."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class Workers:
    """`count` Scorer actors of `gpus` GPUs each (0: CPU actors)."""

    count: int
    gpus: float

    def describe(self) -> str:
        if self.gpus == 0:
            return f"ray: {self.count} CPU worker(s)"
        return f"ray: {self.count} worker(s) x {self.gpus:g} GPU"


def plan_workers(
    num_workers: int | None, gpus_per_worker: float | None, resources: Mapping[str, float]
) -> Workers:
    """The pool for a cluster with `resources` (`ray.cluster_resources()`): by default one actor per GPU,
    or, without GPUs, one CPU actor per CPU but one (left to the reader and the driver)."""
    if num_workers is not None and num_workers < 1:
        raise ValueError(f"num_workers must be at least 1, got {num_workers}")
    if gpus_per_worker is not None and gpus_per_worker < 0:
        raise ValueError(f"gpus_per_worker must not be negative, got {gpus_per_worker}")
    cluster_gpus = resources.get("GPU", 0.0)
    gpus = float(gpus_per_worker if gpus_per_worker is not None else (1.0 if cluster_gpus >= 1 else 0.0))
    if num_workers is not None:
        return Workers(num_workers, gpus)
    if gpus == 0:
        return Workers(max(1, int(resources.get("CPU", 1.0)) - 1), 0.0)
    count = math.floor(cluster_gpus / gpus + 1e-9)
    if count < 1:
        raise ValueError(
            f"the cluster has {cluster_gpus:g} GPU(s) and a worker needs {gpus:g}: give num_workers (an "
            "autoscaling cluster adds nodes for them) or gpus_per_worker 0 for CPU workers"
        )
    return Workers(count, gpus)


@contextmanager
def connect(address: str | None) -> Iterator[dict[str, float]]:
    """Use the Ray instance this process has, or join the cluster at `address` ("auto", "ray://host:10001",
    "host:6379"; None: RAY_ADDRESS, else a new local instance). Yields the cluster's resources. A connection
    made here is closed on exit (a local instance started here stops)."""
    import ray

    if ray.is_initialized():
        yield ray.cluster_resources()
        return
    ray.init(address=address, logging_level=logging.WARNING)
    try:
        yield ray.cluster_resources()
    finally:
        ray.shutdown()
