"""The tiny teacher / student / distilled models of tests/rdpt for the Ray runs."""

from rdpt.conftest import models  # noqa: F401 - a fixture, shared
