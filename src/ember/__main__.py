"""``ember`` and ``python -m ember``: the command line, one argparse subcommand per feature."""
from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, run the chosen subcommand's handler and return its exit status."""
    parser = argparse.ArgumentParser(prog="ember", description="Ember's command line.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    from .demo import add_parser as add_demo

    add_demo(subparsers)
    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
