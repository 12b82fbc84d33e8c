"""The `opsbundle` command. Each part adds its subcommands through a `register(subparsers)`.

Exit status, the same for every command (README, "Exit status"):
0 the work was done; 1 the work failed; 2 bad usage or configuration (one line naming the
flag or setting); 130 interrupted (Ctrl-C); 141 the output was closed early (`| head`).

Only the part whose command runs is imported: `opsbundle --help`, completion and bad usage
do not pay for boto3, OpenSearch or grafanalib.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any

from opsbundle import __version__
from opsbundle.exceptions import ConfigError, OpsbundleError

EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2
EXIT_INTERRUPTED, EXIT_PIPE_CLOSED = 130, 141
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
LOG_FORMATS = ("text", "json")

# Every command: the module whose register(subparsers) adds it, and its one-line help
# (shown by `opsbundle --help` without importing the module; a test holds the two equal).
COMMANDS: dict[str, tuple[str, str]] = {
    "report": ("report_fn.cli", "the lead reports"),
    "targets": ("monitors.unhealthy_targets.cli", "load balancer targets"),
    "dashboards": ("dashboards.cli", "Grafana dashboards and Prometheus rules"),
    "logs": ("log_shipper.cli", "the log shipper (CloudWatch Logs → OpenSearch)"),
    "audit": (
        "audit.cli",
        "check the account against the security baseline (root, passwords, contacts, "
        "CloudTrail, IAM users and policies, the bundle's alarms)",
    ),
    "deploy": (
        "opsbundle.deployment.cli",
        "deploy every stack of an environment through CloudFormation change sets",
    ),
    "cost": ("opsbundle.deployment.cli", "estimate the monthly AWS bill (free tier counted)"),
    "completion": ("opsbundle.completion", "print the shell completion script (bash, zsh, tcsh)"),
}


class HelpFormatter(argparse.HelpFormatter):
    """argparse's own, but the examples keep their lines."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith("examples:\n"):
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


class Parser(argparse.ArgumentParser):
    """argparse with examples under the help, and a hint under a usage error.

    `examples=` is accepted by `add_parser` too, since subparsers are made of this class."""

    def __init__(self, *args: Any, examples: Sequence[str] = (), **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        if examples:
            kwargs["epilog"] = "examples:\n" + "\n".join(f"  {line}" for line in examples)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> Any:
        self.print_usage(sys.stderr)
        self.exit(EXIT_CONFIG, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser(argv: Sequence[str] | None = None) -> Parser:
    """The whole parser; given the `argv` it will parse, only the command named there is
    loaded, and the others are listed by name and summary."""
    parser = Parser(
        prog="opsbundle",
        description="The ops toolkit of a small AWS team. Exit status: 0 done, 1 the work "
        "failed, 2 bad usage or configuration, 130 interrupted, 141 output closed early.",
        examples=[
            "opsbundle report run --source sample --dry-run",
            "opsbundle logs ship event.json --dry-run",
            "opsbundle deploy --env dev --dry-run",
            "opsbundle COMMAND --help",
        ],
    )
    parser.add_argument("--version", action="version", version=f"opsbundle {__version__}")
    parser.add_argument(
        "--log-level",
        type=str.upper,
        choices=LOG_LEVELS,
        default="WARNING",
        help="what is logged to stderr: DEBUG, INFO, WARNING (default), ERROR",
    )
    parser.add_argument(
        "--log-format",
        choices=LOG_FORMATS,
        help="text (short lines) or json (one object a line); default: text on a terminal, "
        "json otherwise",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    wanted = None if argv is None else _command_in(argv)
    for name, (module, _) in COMMANDS.items():
        if (argv is None or name == wanted) and name not in commands.choices:
            importlib.import_module(module).register(commands)
    for name, (_, summary) in COMMANDS.items():
        if name not in commands.choices:  # listed in --help; loaded only when it runs
            commands.add_parser(name, help=summary, add_help=False)
    return parser


def _command_in(argv: Sequence[str]) -> str | None:
    """The first word that is not an option (nor the value of a global option)."""
    words = iter(argv)
    for word in words:
        if word in ("--log-level", "--log-format"):
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(argv).parse_args(argv)  # bad usage: one line and exit 2
    # Imported here, not above: the parser (--help, completion) does not need them.
    from opsbundle import log, progress  # noqa: PLC0415

    terminal = progress.Progress.for_stream(sys.stderr)
    human = (args.log_format or ("text" if terminal.enabled else "json")) == "text"
    log.configure(
        stream=sys.stderr, level=args.log_level, human=human, handler=terminal.log_handler()
    )
    args.progress = terminal
    try:
        status = int(args.handler(args))
        sys.stdout.flush()  # a reader gone away is found here, not in Python's exit
        return status
    except KeyboardInterrupt:
        _say("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`| head`): say nothing, and keep Python's exit-time flush of
        # stdout from raising again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_PIPE_CLOSED
    except Exception as error:  # the last line of defence: never a traceback
        return _failed(error, debug=args.log_level == "DEBUG")


def _failed(error: Exception, *, debug: bool) -> int:
    """One line on stderr for an error, and the exit status it means."""
    if not isinstance(error, OpsbundleError):
        from opsbundle import failures  # noqa: PLC0415 - only when something failed

        error = failures.known(error) or error
    if isinstance(error, ConfigError):
        _say(f"configuration error: {error}")
        return EXIT_CONFIG
    if isinstance(error, OpsbundleError):
        _say(f"failed: {error}")
        return EXIT_FAILED
    if debug:
        import traceback  # noqa: PLC0415

        traceback.print_exc(file=sys.stderr)
    _say(
        f"unexpected error: {type(error).__name__}: {str(error)[:300]} (a bug: run again "
        "with --log-level DEBUG to see where, and report it)"
    )
    return EXIT_FAILED


def _say(line: str) -> None:
    print(f"opsbundle: {line}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
