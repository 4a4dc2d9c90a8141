"""`python -m rdpt_fast.integrations ARGS`: lm-eval's command line with the `rdpt-fast` model registered."""

from lm_eval.__main__ import cli_evaluate

import rdpt_fast.integrations.lm_eval  # noqa: F401  (registers "rdpt-fast")

if __name__ == "__main__":
    cli_evaluate()
