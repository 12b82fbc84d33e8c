"""Errors of the audit. One base; each says what was wrong and what to check."""

from opsbundle.exceptions import OpsbundleError


class AuditError(OpsbundleError):
    """The audit could not read the account (a failure no setting fixes): the run failed."""


class StateConflict(AuditError):
    """Another audit run saved the findings state first; this run's digest is not needed."""
