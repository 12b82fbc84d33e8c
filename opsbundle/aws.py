"""boto3 clients with standard retries. boto3 itself honours AWS_ENDPOINT_URL and AWS_PROFILE."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import NoCredentialsError, NoRegionError, PartialCredentialsError

from opsbundle.exceptions import ConfigError

RETRIES = Config(
    retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=30
)


def client(
    service: str,
    *,
    region: str | None = None,
    session: boto3.Session | None = None,
    config: Config | None = None,
) -> Any:
    """A client for `service`, built only when the caller did not hand one in."""
    factory: Any = (session or boto3.Session()).client  # typed per service by boto3-stubs
    try:
        return factory(service, region_name=region, config=config or RETRIES)
    except NoRegionError as error:
        problem = setup_problem(error)
        assert problem is not None
        raise problem from None


def setup_problem(error: BaseException) -> ConfigError | None:
    """The settings error behind a botocore failure that no retry can fix, if it is one."""
    if isinstance(error, NoRegionError):
        return ConfigError("AWS_REGION", "no AWS region: set AWS_REGION or use a profile with one")
    if isinstance(error, NoCredentialsError | PartialCredentialsError):
        return ConfigError(
            "AWS credentials",
            "none found: use a role, AWS_PROFILE or SSO (never static keys in files)",
        )
    return None
