"""Structured JSON logging through the Powertools Logger, one per process.

Lambdas log to stdout (CloudWatch); the CLI calls `configure(stream=sys.stderr)` first so
stdout stays for the command's own output.
"""

from __future__ import annotations

import os
import sys
from typing import IO

from aws_lambda_powertools import Logger

from opsbundle import settings

_logger: Logger | None = None


def configure(*, stream: IO[str] | None = None, level: str | None = None) -> Logger:
    global _logger  # noqa: PLW0603 - one logger per process, configured once at the entry point
    _logger = Logger(
        service=os.environ.get(settings.SERVICE_NAME) or "opsbundle",
        level=level or os.environ.get(settings.LOG_LEVEL) or "INFO",
        stream=stream or sys.stdout,
    )
    return _logger


def get_logger() -> Logger:
    return _logger or configure()
