"""`opsbundle completion bash|zsh|tcsh`: the shell's completion script, made by shtab from the
parser itself, so every command, flag and choice completes without running Python at TAB."""

from __future__ import annotations

import argparse
from typing import Any

from opsbundle.cli import EXIT_OK

SHELLS = ("bash", "zsh", "tcsh")


def register(commands: Any) -> None:
    completion = commands.add_parser(
        "completion",
        help="print the shell completion script (bash, zsh, tcsh)",
        description="Print the completion script for a shell; load it from the shell's "
        "start-up file.",
        examples=[
            "opsbundle completion bash > ~/.local/share/bash-completion/completions/opsbundle",
            'opsbundle completion zsh > "${fpath[1]}/_opsbundle"',
            'eval "$(opsbundle completion bash)"',
        ],
    )
    completion.add_argument("shell", choices=SHELLS, help="the shell: bash, zsh or tcsh")
    completion.set_defaults(handler=completion_command)


def completion_command(args: argparse.Namespace) -> int:
    import shtab  # noqa: PLC0415 - only this command needs it

    from opsbundle.cli import build_parser  # noqa: PLC0415 - the whole parser, every command

    print(shtab.complete(build_parser(), shell=args.shell))
    return EXIT_OK
