"""rdpt-fast: per-sentence scoring of reasoning traces for Reasoning Distillation Provenance Tracing."""
