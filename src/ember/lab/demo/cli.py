"""``ember demo``: the command-line entry to the lecture walkthrough."""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from .lecture import SECTIONS
from .output import TerminalWriter
from .runner import Context, run_sections

DEFAULT_OUT = Path("demo-out")
EXTRAS = {"matplotlib", "PIL", "sklearn", "tqdm", "sympy"}  # what the sections import lazily


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``demo`` subcommand, its options and its handler to an argparse subparsers object."""
    parser = subparsers.add_parser(
        "demo", help="run the lecture walkthrough, section by section",
        description="Lecture 2 computed by Ember, in order: each section prints the code it runs "
                    "and what it gives, and writes its pictures as PNGs.")
    parser.add_argument("sections", nargs="*", metavar="SECTION",
                        help="sections to run (default: all, in lecture order); see --list")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"folder for the PNGs (default: {DEFAULT_OUT}/)")
    parser.add_argument("--list", action="store_true", help="list the sections and exit")
    parser.add_argument("--fast", action="store_true", help="short training runs (for tests)")
    parser.set_defaults(func=lambda args: _handle(parser, args))
    return parser


def section_list() -> str:
    """The sections, one a line: number, name, title."""
    width = max(len(s.name) for s in SECTIONS)
    return "\n".join(f"  {i:>2}  {s.name.ljust(width)}  {s.title}" for i, s in enumerate(SECTIONS, 1))


def _handle(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """List, refuse unknown names (exit 2, with the list), or run the chosen sections."""
    if args.list:
        if args.sections:
            parser.exit(2, f"ember demo: error: --list takes no sections (got "
                           f"{' '.join(args.sections)})\n")
        print(section_list())
        return 0
    known = {s.name for s in SECTIONS}
    unknown = [name for name in args.sections if name not in known]
    if unknown:
        parser.error(f"unknown section {', '.join(map(repr, unknown))}; the sections are:\n"
                     f"{section_list()}")
    problem = _unwritable(args.out)
    if problem:
        parser.exit(2, f"ember demo: error: --out {args.out}: {problem}\n")
    try:
        run(args.sections, args.out, args.fast)
    except OSError as exc:  # the folder went away or filled up while the sections ran
        parser.exit(2, f"ember demo: error: --out {args.out}: {exc.strerror or exc}\n")
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in EXTRAS:
            raise
        parser.exit(1, f"ember demo: the walkthrough needs {exc.name}, one of Ember's extras: "
                       f"pip install \"ember[extras]\" (or pip install -e \".[extras]\" in a checkout)\n")
    return 0


def _unwritable(out: Path) -> str | None:
    """Why the pictures could not be written under ``out`` (checked before any section runs,
    so a bad --out costs no computing), or None."""
    folder = Path(out)
    while not folder.exists():
        if folder.parent == folder:
            return "no such folder"
        folder = folder.parent
    if not folder.is_dir():
        return "not a folder" if folder == Path(out) else f"{folder} is not a folder"
    if not os.access(folder, os.W_OK | os.X_OK):
        return "permission denied" if folder == Path(out) else f"{folder}: permission denied"
    return None


def run(names, out: Path = DEFAULT_OUT, fast: bool = False, writer=None) -> dict:
    """Run the named sections (all when none are named) in lecture order; return their results."""
    writer = writer if writer is not None else TerminalWriter()
    numbers = {s.name: i for i, s in enumerate(SECTIONS, 1)}
    chosen = [s for s in SECTIONS if not names or s.name in names]
    ctx = Context(out=Path(out), fast=fast, writer=writer)
    start = time.perf_counter()
    results = run_sections(chosen, numbers, ctx)
    _summary(writer, ctx, time.perf_counter() - start)
    return results


def _summary(writer, ctx, seconds: float) -> None:
    """Say where the pictures are, so nobody has to look for them."""
    if ctx.files:
        names = ", ".join(f.name for f in ctx.files)
        count = "1 PNG is" if len(ctx.files) == 1 else f"{len(ctx.files)} PNGs are"
        writer.say(f"Done in {seconds:.1f} s. The {count} in {ctx.out.resolve()}/: {names}")
    else:
        writer.say(f"Done in {seconds:.1f} s. These sections wrote no PNGs.")
