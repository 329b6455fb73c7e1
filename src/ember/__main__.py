"""The ``ember`` command: ``ember grad``, ``ember check``, and ``ember demo`` where installed.

Each subcommand registers itself on the argparse subparsers and sets ``func`` (parsed args ->
exit status). ``grad`` and ``check`` come from ``ember.lab.cli``; ``demo`` from ``ember.lab.demo``'s
``add_parser`` when that package is present.
"""
from __future__ import annotations

import argparse
import importlib.util
import sys

from .lab import cli


def build_parser() -> argparse.ArgumentParser:
    """The ``ember`` argument parser with every available subcommand."""
    parser = argparse.ArgumentParser(prog="ember", description="Ember from the command line.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    cli.add_parsers(subparsers)
    if importlib.util.find_spec("ember.lab.demo") is not None:
        # imported here, not at the top: the demo is optional: loaded only where installed
        from .lab.demo import add_parser

        add_parser(subparsers)
    return parser


def main(argv: list | None = None) -> int:
    """Parse ``argv`` (default: the command line), run the subcommand, return its exit status."""
    parser = build_parser()
    args = parser.parse_args(cli.expressions_as_positionals(sys.argv[1:] if argv is None else argv))
    return cli.run(args, parser)


if __name__ == "__main__":
    sys.exit(main())
