"""Score, trace and select on a Ray cluster with Ray Data: `--executor ray`, from the extra
`pip install rdpt-fast[distributed]`.

The input is read as a Ray Dataset of token-budgeted work units (`source`), a pool of Scorer actors scores
them (`actors`, `scorers`), and the driver gathers the results by chunk and writes the same shards, with
the same manifest, as a local run (`engine`, `collect`, `run_passes`, `score_command`). The package is
imported only when a Ray run starts. See docs/scaling.md.
"""

try:
    import ray.data  # noqa: F401
except ImportError as e:  # pragma: no cover - depends on the installation
    raise ImportError("the ray executor needs Ray Data: pip install 'rdpt-fast[distributed]'") from e
