"""AWS clients with standard retries. botocore itself honours AWS_ENDPOINT_URL and AWS_PROFILE.

Clients come from a botocore session unless the caller hands in a boto3 one (the CLI's
profile and region): a Lambda needs no more than botocore's client, and importing boto3 costs
a cold start about 25 ms more (its S3 transfer manager and, through it, multiprocessing).

The region: an explicit one (a `--region` flag), else AWS_REGION, else what botocore finds
(AWS_DEFAULT_REGION, the profile's). botocore alone does not read AWS_REGION, which Lambda,
the AWS CLI's users and the README all set.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import botocore.session
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
)

from opsbundle.exceptions import ConfigError

if TYPE_CHECKING:
    import boto3

THROTTLED = frozenset(
    {"Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException"}
)
DENIED = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})
RETRIES = Config(
    retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=30
)
NO_REGION = "no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION), or use a profile with a region"


def client(
    service: str,
    *,
    region: str | None = None,
    session: boto3.Session | None = None,
    config: Config | None = None,
) -> Any:
    """A client for `service`, built only when the caller did not hand one in."""
    factory: Any = session.client if session else botocore.session.get_session().create_client
    try:
        return factory(service, region_name=region_name(region), config=config or RETRIES)
    except NoRegionError as error:
        problem = setup_problem(error)
        assert problem is not None
        raise problem from None


def region_name(explicit: str | None = None) -> str | None:
    """explicit > AWS_REGION > None (botocore then reads AWS_DEFAULT_REGION and the profile)."""
    return explicit or os.environ.get("AWS_REGION", "").strip() or None


def resolved_region(explicit: str | None = None, *, flag: str = "--region") -> str:
    """The region a command works in: `explicit` (from `flag`), AWS_REGION, or botocore's."""
    region = region_name(explicit) or botocore.session.get_session().get_config_variable("region")
    if not region:
        raise ConfigError(flag, NO_REGION)
    setting = flag if explicit else "AWS_REGION"
    return known_region(str(region), setting=setting)


def known_region(region: str, *, setting: str) -> str:
    """`region` when botocore knows it: a typo (`mars-1`) is named here, rather than failing
    later as a host name that does not resolve."""
    session = botocore.session.get_session()
    known = {
        name
        for partition in session.get_available_partitions()
        for name in session.get_available_regions("sts", partition)
    }
    if region not in known:
        raise ConfigError(
            setting,
            f"unknown region {region!r}; e.g. us-east-1, eu-west-1 "
            "(aws ec2 describe-regions lists the account's)",
        )
    return region


def setup_problem(error: BaseException) -> ConfigError | None:
    """The settings error behind a botocore failure that no retry can fix, if it is one."""
    if isinstance(error, NoRegionError):
        return ConfigError("AWS_REGION", NO_REGION)
    if isinstance(error, NoCredentialsError | PartialCredentialsError):
        return ConfigError(
            "AWS credentials",
            "none found: use a role, AWS_PROFILE or SSO (never static keys in files)",
        )
    return None


def error_code(error: BaseException, default: str = "") -> str:
    """The AWS error code of a ClientError (`AccessDenied`), else `default`."""
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code") or default)
    return default


def error_name(error: BaseException) -> str:
    """The AWS error code, else the exception's class name (`EndpointConnectionError`)."""
    return error_code(error, type(error).__name__)


def error_message(error: BaseException) -> str:
    """The service's own message of a ClientError ("" when it sent none), else the error's
    text."""
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Message") or "")
    return str(error)


def call_failed(error: BotoCoreError | ClientError, call: str) -> str:
    """What went wrong with `call`, in a line for an alert. Missing credentials or region are
    settings, not an alert's business: raised as ConfigError."""
    problem = setup_problem(error)
    if problem:
        raise problem
    code = error_code(error)
    if code in THROTTLED:
        return f"{call} was throttled by AWS even after retries ({code}); try again later"
    if code in DENIED:
        return f"{call} was denied ({code}): the role lacks this permission"
    if isinstance(error, EndpointConnectionError | ConnectTimeoutError):
        return f"could not reach {error.kwargs.get('endpoint_url')} ({call})"
    return f"{call} failed: {code or error}"
