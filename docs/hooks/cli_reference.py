"""MkDocs hook: the CLI reference (`docs/cli.md`) is the parser's own `--help`, written into
the page at build time, so the reference lists every command and flag there is and no other.

The page holds the line MARKER where the reference goes. `commands()` walks the parser that
`opsbundle` runs (`opsbundle.cli.build_parser`); `tests/unit/docs/test_cli_docs.py` uses it too,
to hold the hand-written part pages to the same parser: each command's synopsis on its part's
page names every flag it has, and no page names a command or flag that does not exist.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

MARKER = "<!-- cli-reference -->"
HELP_WIDTH = 100  # columns of the --help text shown on the page (argparse reads COLUMNS)

# The page that explains each top-level command, at its CLI section.
OWNERS = {
    "report": "report.md",
    "targets": "monitors.md",
    "dashboards": "dashboards.md",
    "logs": "log-shipper.md",
    "audit": "audit.md",
    "deploy": "deployment.md",
    "cost": "deployment.md",
    "completion": "cli.md",
}
SECTIONS = {"completion": "shell-completion"}  # where the section is not called "CLI"


@dataclass(frozen=True)
class Command:
    path: tuple[str, ...]  # ("logs", "subscribe")
    summary: str  # its one line in the parent's list of commands
    parser: argparse.ArgumentParser

    @property
    def name(self) -> str:
        return " ".join(("opsbundle", *self.path))

    def options(self) -> set[str]:
        """Its long option strings, --help left out."""
        return {
            option
            for action in self.parser._actions  # argparse keeps them only here
            for option in action.option_strings
            if option.startswith("--") and option != "--help"
        }

    def subcommands(self) -> dict[str, argparse.ArgumentParser]:
        return {
            name: parser
            for action in self.parser._actions
            if isinstance(action, argparse._SubParsersAction)
            for name, parser in action.choices.items()
        }


def build_parser() -> argparse.ArgumentParser:
    from opsbundle.cli import build_parser as opsbundle_parser  # noqa: PLC0415 (at build time)

    return opsbundle_parser()


def commands(parser: argparse.ArgumentParser | None = None) -> Iterator[Command]:
    """The top-level command (path ()) and every command under it, depth first."""
    root = Command((), "", parser or build_parser())
    yield from _walk(root)


def _walk(command: Command) -> Iterator[Command]:
    yield command
    for action in command.parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            summaries = {choice.dest: choice.help or "" for choice in action._choices_actions}
            for name, parser in action.choices.items():
                yield from _walk(Command((*command.path, name), summaries.get(name, ""), parser))


@contextmanager
def _columns(width: int) -> Iterator[None]:
    before = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(width + 2)  # argparse wraps at COLUMNS - 2
    try:
        yield
    finally:
        if before is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = before


def render(parser: argparse.ArgumentParser | None = None) -> str:
    """The reference as Markdown: a table of the commands, then each one's --help."""
    everything = list(commands(parser))
    leaves = [command for command in everything if command.path and not command.subcommands()]
    lines = ["| command | what it does | explained in |", "|---|---|---|"]
    for command in leaves:
        owner = OWNERS.get(command.path[0])
        section = SECTIONS.get(command.path[0], "cli")
        where = f"[{owner.removesuffix('.md')}]({owner}#{section})" if owner else ""
        summary = command.summary or command.parser.description or ""
        lines.append(f"| [`{command.name}`](#{_anchor(command)}) | {summary} | {where} |")
    with _columns(HELP_WIDTH):
        for command in everything:
            if command.path and command.subcommands():
                continue  # a group: its commands follow, each with its own help
            title = command.name if command.path else "opsbundle (every command)"
            lines += ["", f"## {title} {{ #{_anchor(command)} }}", ""]
            lines += ["```text", command.parser.format_help().rstrip(), "```"]
    return "\n".join(lines) + "\n"


def _anchor(command: Command) -> str:
    return "-".join(("opsbundle", *command.path))


def on_page_markdown(markdown: str, **_: Any) -> str:
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, render())
