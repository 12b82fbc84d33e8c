"""Errors of the lead report. CRM failures fail the invocation after a notice is sent."""

from opsbundle.exceptions import ConfigError, OpsbundleError


class ReportError(OpsbundleError):
    """The report could not be built or delivered."""


class CRMError(ReportError):
    """The CRM could not give the leads (outage, refusal, bad answer)."""


class CRMAuthError(CRMError, ConfigError):
    """The CRM refused the credentials: retrying will not help, fixing the secret will."""

    def __init__(self, setting: str, problem: str) -> None:
        ConfigError.__init__(self, setting, problem)


class EventError(ReportError):
    """The invocation event does not carry a usable scheduled time."""


class SlotBusyError(ReportError):
    """Another invocation is building this slot's report right now; retry later."""
