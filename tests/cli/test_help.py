"""Every option of every command has help text, and help shows each default a user might not guess."""

from __future__ import annotations

import argparse

from rdpt_fast.cli.main import build_parser


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def test_every_option_has_help_and_shows_its_default():
    missing, no_default = [], []
    for name, parser in subcommands().items():
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction) or not action.option_strings:
                continue
            flag = f"{name} {action.option_strings[0]}"
            if not action.help:
                missing.append(flag)
            shown = action.default not in (None, False, True, argparse.SUPPRESS) and action.const is None
            if shown and "default" not in (action.help or "").lower():
                no_default.append(flag)
    assert missing == [] and no_default == []


def test_batch_budget_is_named_for_what_it_is_and_the_old_name_still_works():
    score = subcommands()["score"]
    args = score.parse_args(["--model", "m", "--input", "i", "-o", "o", "--max-tokens", "512"])
    assert args.max_tokens_per_batch == 512
    args = score.parse_args(["--model", "m", "--input", "i", "-o", "o", "--max-batch-tokens", "256"])
    assert args.max_tokens_per_batch == 256


def test_demo_takes_output_like_the_other_commands_and_defaults_outside_the_cwd():
    demo = subcommands()["demo"]
    assert demo.parse_args([]).out is None  # resolved to the cache folder and printed by the command
    assert demo.parse_args(["--output", "x"]).out == "x" == demo.parse_args(["--out", "x"]).out
