"""Errors of the libraries underneath (botocore, requests, the OS) as the CLI's own: one line
that says what failed and what to do, never a traceback. The CLI's entry point asks here only
when an error got past the command's own handling."""

from __future__ import annotations

import os
from typing import Any

from opsbundle.exceptions import ConfigError, OpsbundleError

# Answers to an expired or refused identity: credentials exist but do not work.
CREDENTIAL_ERRORS = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
        "AccessDenied",
        "AccessDeniedException",
    }
)


def known(error: BaseException) -> OpsbundleError | None:
    """The error as a ConfigError (exit 2) or an OpsbundleError (exit 1), if it is known."""
    module = type(error).__module__
    if module.startswith("botocore"):
        return aws_problem(error)
    if module.startswith(("requests", "urllib3")):
        return OpsbundleError(
            f"could not reach a server ({type(error).__name__}); "
            "check the URL setting and the network"
        )
    if isinstance(error, OSError):
        where = f" {error.filename}" if error.filename else ""
        return OpsbundleError(f"{error.strerror or error}{':' if where else ''}{where}")
    return None


def aws_problem(error: BaseException) -> OpsbundleError:
    """A botocore error: settings (region, credentials, profile, endpoint) are exit 2."""
    from botocore.exceptions import (  # noqa: PLC0415 - only when AWS failed
        ClientError,
        ConnectTimeoutError,
        EndpointConnectionError,
        ProfileNotFound,
    )

    from opsbundle.aws import setup_problem  # noqa: PLC0415

    if problem := setup_problem(error):
        return problem
    if isinstance(error, ProfileNotFound):
        return ConfigError(
            "AWS_PROFILE", f"{error}; check the name with aws configure list-profiles"
        )
    if isinstance(error, ClientError):
        return _refused(error)
    if isinstance(error, EndpointConnectionError | ConnectTimeoutError):
        url = error.kwargs.get("endpoint_url", "")
        if endpoint := os.environ.get("AWS_ENDPOINT_URL"):
            return ConfigError("AWS_ENDPOINT_URL", f"cannot reach {url} ({endpoint})")
        return OpsbundleError(f"could not reach {url}: check the network or proxy (HTTPS_PROXY)")
    return OpsbundleError(f"AWS: {error}")


def _refused(error: Any) -> OpsbundleError:
    """An AWS answer that said no: credentials that do not work are settings (exit 2)."""
    from opsbundle.aws import error_code, error_message  # noqa: PLC0415 - only when AWS failed

    code, message = error_code(error), error_message(error) or str(error)
    if code in CREDENTIAL_ERRORS:
        return ConfigError(
            "AWS credentials",
            f"{error.operation_name} refused them ({code}: {message}); "
            "sign in again (aws sso login) or pick another AWS_PROFILE",
        )
    return OpsbundleError(f"AWS {error.operation_name} failed: {code}: {message}")
