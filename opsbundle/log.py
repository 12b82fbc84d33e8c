"""Logging through the Powertools Logger, one per process.

Lambdas log structured JSON to stdout (CloudWatch). The CLI calls `configure(stream=
sys.stderr, ...)` first so stdout stays for the command's own output, with `human=True` on a
terminal: the same records as short lines (`warning: index template not installed:
error=...`), written through the handler it passes (one that does not tear a progress bar).
"""

from __future__ import annotations

import logging
import sys
from typing import IO, Any

from aws_lambda_powertools import Logger

from opsbundle import settings
from opsbundle.settings import Env

_logger: Logger | None = None
# Keys of a Powertools record that say where and when, not what: left out of a human line.
_CONTEXT_KEYS = frozenset(
    {
        "level",
        "location",
        "message",
        "timestamp",
        "service",
        "sampling_rate",
        "cold_start",
        "function_name",
        "function_memory_size",
        "function_arn",
        "function_request_id",
        "xray_trace_id",
        "exception_name",
        "stack_trace",
    }
)


def configure(
    *,
    stream: IO[str] | None = None,
    level: str | None = None,
    human: bool = False,
    handler: logging.Handler | None = None,
) -> Logger:
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
        logger_handler=handler,
        json_serializer=human_line if human else None,
    )
    return _logger


def human_line(record: dict[str, Any]) -> str:
    """One short line for a person: the level, the message, then the record's own fields."""
    fields = [f"{key}={value}" for key, value in record.items() if key not in _CONTEXT_KEYS]
    line = f"{str(record.get('level', 'info')).lower()}: {record.get('message', '')}"
    if record.get("exception"):
        fields = [f for f in fields if not f.startswith("exception=")]
        last = str(record["exception"]).strip().splitlines()[-1:]
        fields.append(f"error={last[0] if last else ''}")
    return f"{line}: {', '.join(fields)}" if fields else line


def get_logger() -> Logger:
    return _logger or configure()
