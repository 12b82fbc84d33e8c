"""Structured JSON logging through the Powertools Logger, one per process.

Lambdas log to stdout (CloudWatch); the CLI calls `configure(stream=sys.stderr)` first so
stdout stays for the command's own output.
"""

from __future__ import annotations

import logging
import sys
from typing import IO

from aws_lambda_powertools import Logger

from opsbundle import settings
from opsbundle.settings import Env

_logger: Logger | None = None


def configure(*, stream: IO[str] | None = None, level: str | None = None) -> Logger:
    global _logger  # noqa: PLW0603 - one logger per process, configured at the entry point
    env = Env()
    service = env.string(settings.SERVICE_NAME, default="opsbundle") or "opsbundle"
    # Powertools keeps the first handler of a named logger: drop it to honour this call.
    named = logging.getLogger(service)
    named.handlers.clear()
    for marker in ("init", "powertools_handler"):
        if hasattr(named, marker):
            delattr(named, marker)
    _logger = Logger(
        service=service,
        level=level or env.string(settings.LOG_LEVEL, default="INFO"),
        stream=stream or sys.stdout,
    )
    return _logger


def get_logger() -> Logger:
    return _logger or configure()
