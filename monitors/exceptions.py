"""Errors of the monitors. One base; each says what was wrong and what to check."""

from opsbundle.exceptions import OpsbundleError


class MonitorError(OpsbundleError):
    """A monitor could not do its work."""


class EventError(MonitorError):
    """The invocation event is not one of the shapes the monitor reads; says which part."""
