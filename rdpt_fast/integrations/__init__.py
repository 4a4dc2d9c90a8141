"""Adapters that make rdpt-fast a backend of other tools (lm-evaluation-harness)."""
