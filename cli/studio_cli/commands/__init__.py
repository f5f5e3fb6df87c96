"""One module per command group (`studio <group> <action>`), each with `register(groups, common)`."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def add_group(groups, name: str, help_text: str) -> argparse._SubParsersAction:
    parser = groups.add_parser(name, help=help_text, description=help_text)
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    return actions


def add_command(actions, name: str, func: Callable, common: argparse.ArgumentParser, help_text: str):
    parser = actions.add_parser(name, help=help_text, description=help_text, parents=[common])
    parser.set_defaults(func=func)
    return parser


def add_name_arguments(parser) -> None:
    """`NAME` or `-n/--name NAME`, for the commands that act on one named object."""
    parser.add_argument("name_arg", nargs="?", metavar="NAME")
    parser.add_argument("-n", "--name")


def name_from_args(args: argparse.Namespace, what: str) -> str:
    name = args.name or args.name_arg
    if not name:
        from studio_cli.errors import CLIError

        raise CLIError(f"Which {what}? Give NAME (or --name NAME).")
    return name


def parse_tags(items: list[str] | None) -> dict[str, str]:
    from studio_cli.errors import CLIError

    tags = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CLIError(f"--tags {item!r}: expected key=value.")
        tags[key] = value
    return tags
