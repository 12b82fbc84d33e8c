"""Errors of the dashboards part; the CLI maps them to exit codes like every other part."""

from __future__ import annotations

from opsbundle.exceptions import OpsbundleError


class UploadError(OpsbundleError):
    """Grafana refused a dashboard (exit 1); bad URLs and tokens are ConfigErrors (exit 2)."""

    def __init__(self, title: str, status: int, reason: str, hint: str = "") -> None:
        message = f"Grafana refused {title!r} (HTTP {status}): {reason}"
        super().__init__(f"{message}; {hint}" if hint else message)
        self.title = title
        self.status = status
        self.reason = reason


class QueryError(OpsbundleError):
    """Prometheus refused one of a dashboard's queries (`dashboards check` reports it with the
    panel; bad syntax, too many samples)."""
