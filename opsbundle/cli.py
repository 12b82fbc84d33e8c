"""The `opsbundle` command. Each part adds its subcommands through a `register(subparsers)`.

Exit status: 0 the work was done, 1 the work failed, 2 bad usage or configuration.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from opsbundle import __version__, log
from opsbundle.exceptions import ConfigError, OpsbundleError

EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2

# Modules that expose register(subparsers); each part appends its own.
PARTS = (
    "report_fn.cli",
    "monitors.unhealthy_targets.cli",
    "dashboards.cli",
    "log_shipper.cli",
    "audit.cli",
    "opsbundle.deployment.cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="opsbundle", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"opsbundle {__version__}")
    parser.add_argument("--log-level", default=None, help="DEBUG, INFO (default), WARNING, ERROR")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in PARTS:
        importlib.import_module(module).register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # bad usage: argparse prints it and exits 2
    log.configure(stream=sys.stderr, level=args.log_level or "WARNING")
    try:
        return int(args.handler(args))
    except ConfigError as error:
        print(f"opsbundle: configuration error: {error}", file=sys.stderr)
        return EXIT_CONFIG
    except OpsbundleError as error:
        print(f"opsbundle: failed: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("opsbundle: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
