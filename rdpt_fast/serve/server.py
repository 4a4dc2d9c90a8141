"""Running the application under uvicorn: SIGTERM / SIGINT stop accepting connections, let in-flight
requests finish (up to `graceful_s`), then stop the batcher and exit."""

from __future__ import annotations

from rdpt_fast.scoring.sequences import SequenceScorer
from rdpt_fast.serve.app import ServeConfig, create_app


def run_server(
    scorer: SequenceScorer,
    config: ServeConfig,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    log_level: str = "info",
    graceful_s: float = 60.0,
) -> None:
    """Serve `scorer` on host:port until a shutdown signal (blocking)."""
    import uvicorn

    app = create_app(scorer, config)
    server = uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, log_level=log_level, timeout_graceful_shutdown=graceful_s)
    )
    server.run()
