"""Errors of the log shipper. Only a failure to make events durable fails an invocation."""

from opsbundle.exceptions import OpsbundleError


class LogShipperError(OpsbundleError):
    """The log shipper could not do its work."""


class DeadLetterError(LogShipperError):
    """Events could neither be indexed nor written to the dead-letter bucket: not durable."""


class OpenSearchError(LogShipperError):
    """OpenSearch refused a request that is not about one document (template, setup)."""

    retryable = False  # True when OpenSearch could not be reached or failed (5xx, 429)
