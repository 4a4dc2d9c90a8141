"""The run engine behind `score`, `trace` and `select`: inputs -> segments (once per record) -> per role an
executor runs the role's Scorer -> join -> labels -> shards, `rejects.jsonl` and `run.json`
(docs/outputs.md). `RunConfig` holds a run's settings, `score` is the one-role run."""
