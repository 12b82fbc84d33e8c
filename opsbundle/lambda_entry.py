"""The one shape of every Lambda entry point: the part's function runs inside a wrapper that
gives it the request, the logger's context and the run's metrics.

    @lambda_entry(service="root_login", failure_metric="MonitorFailed",
                  failure_message="root-login monitor failed", malformed=(EventError,))
    def handler(invocation: Invocation) -> dict[str, Any]:
        activity = parse_root_event(invocation.event)            # parse
        monitor = build_monitor(MonitorSettings.load(), ...)     # build
        return monitor.handle(activity)                          # run

What the wrapper does for every function, so no handler repeats it:

- every log line of the invocation carries the request id, the function and whether it is a
  cold start (Powertools' `Logger.inject_lambda_context`, state cleared between invocations);
- a malformed event (one of `malformed`) is counted as `MalformedEvents` and logged as
  "event not understood" with the event's id; any other failure is counted once as
  `failure_metric` (unless the function counted it itself) and logged with its traceback;
  both are raised again, so Lambda's retries and the Errors metric see them;
- the run's metrics are published once, at the end, whatever happened.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from opsbundle.log import get_logger
from opsbundle.metrics import RunMetrics

Result = TypeVar("Result")
Handler = Callable[[Any, Any], Result]
MALFORMED_METRIC = "MalformedEvents"


class Invocation:
    """One invocation: Lambda's event and context, and the metrics of this run. (A plain
    class: a dataclass would cost every cold start its generated methods.)"""

    __slots__ = ("context", "event", "metrics")

    def __init__(self, *, event: Any, context: Any, metrics: RunMetrics) -> None:
        self.event = event
        self.context = context
        self.metrics = metrics

    @property
    def event_id(self) -> str | None:
        """The event's own id (EventBridge's), for the logs; None when it has none."""
        return _event_id(self.event)

    @property
    def request_id(self) -> str:
        return str(getattr(self.context, "aws_request_id", None) or "local")

    def remaining_seconds(self) -> float | None:
        """Seconds until Lambda stops the invocation; None when not run by Lambda."""
        remaining = getattr(self.context, "get_remaining_time_in_millis", None)
        return float(remaining()) / 1000 if callable(remaining) else None


class _LogContext:
    """The fields of Lambda's context the logger reads, with stand-ins for a context that lacks
    them (a test's, or none when invoked by hand)."""

    __slots__ = ("aws_request_id", "function_name", "invoked_function_arn", "memory_limit_in_mb")

    def __init__(self, context: Any) -> None:
        self.function_name = str(getattr(context, "function_name", None) or "local")
        self.memory_limit_in_mb = int(getattr(context, "memory_limit_in_mb", None) or 0)
        self.invoked_function_arn = str(getattr(context, "invoked_function_arn", None) or "local")
        self.aws_request_id = str(getattr(context, "aws_request_id", None) or "local")


def lambda_entry(
    *,
    service: str,
    failure_metric: str,
    failure_message: str,
    malformed: tuple[type[Exception], ...] = (),
) -> Callable[[Callable[[Invocation], Result]], Handler[Result]]:
    """Makes `run(invocation)` a Lambda handler `handler(event, context)` (see above)."""

    def decorate(run: Callable[[Invocation], Result]) -> Handler[Result]:
        @functools.wraps(run)
        def handler(event: Any, context: Any) -> Result:
            logger = get_logger()
            metrics = RunMetrics(service=service)
            invocation = Invocation(event=event, context=context, metrics=metrics)

            @logger.inject_lambda_context(clear_state=True)
            def in_context(_event: Any, _context: _LogContext) -> Result:
                return run(invocation)

            try:
                return in_context(event, _LogContext(context))
            except malformed as error:
                metrics.count(MALFORMED_METRIC)
                logger.error(
                    "event not understood", extra={"error": str(error), "id": _event_id(event)}
                )
                raise
            except Exception:
                if not metrics.counts.get(failure_metric):
                    metrics.count(failure_metric)
                logger.exception(failure_message)
                raise
            finally:
                metrics.publish()

        return handler

    return decorate


def _event_id(event: Any) -> str | None:
    return str(event.get("id")) if isinstance(event, Mapping) and event.get("id") else None
