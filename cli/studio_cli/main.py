"""`studio`: the entry point. Builds the argparse tree from `commands/*` and turns every
CLIError into one line on stderr and a non-zero exit code."""

from __future__ import annotations

import argparse
import os
import sys

from studio_cli import __version__
from studio_cli.commands import (
    auth,
    batch_endpoint,
    component,
    compute,
    data,
    datastore,
    endpoint,
    environment,
    job,
    model,
    schedule,
    workspace,
)
from studio_cli.context import Context
from studio_cli.errors import CLIError
from studio_cli.output import FORMATS

MODULES = [
    auth,
    workspace,
    environment,
    compute,
    component,
    job,
    schedule,
    data,
    model,
    datastore,
    endpoint,
    batch_endpoint,
]


def common_options(suppress: bool) -> argparse.ArgumentParser:
    """`-o` and `-w`, accepted before or after the subcommand (`studio -o json job list`)."""
    default = argparse.SUPPRESS if suppress else None
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("-o", "--output", choices=FORMATS, default=default, help="output format (default: table)")
    parent.add_argument(
        "-w", "--workspace", default=default, help="workspace (default: `studio workspace set-default`)"
    )
    return parent


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="studio",
        description="Work with a Studio server from the terminal, with Azure ML CLI v2 YAML files.",
        parents=[common_options(suppress=False)],
    )
    parser.add_argument("--version", action="version", version=f"studio-cli {__version__}")
    groups = parser.add_subparsers(dest="group", metavar="COMMAND")
    groups.required = True
    common = common_options(suppress=True)
    for module in MODULES:
        module.register(groups, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result = args.func(Context(args))
    except CLIError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `studio job list | head`: the reader went away; that is not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return int(result or 0)


if __name__ == "__main__":
    raise SystemExit(main())
