"""AWS clients with standard retries. botocore itself honours AWS_ENDPOINT_URL and AWS_PROFILE.

Clients come from a botocore session unless the caller hands in a boto3 one (the CLI's
profile and region): a Lambda needs no more than botocore's client, and importing boto3 costs
a cold start about 25 ms more (its S3 transfer manager and, through it, multiprocessing).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import botocore.session
from botocore.config import Config
from botocore.exceptions import NoCredentialsError, NoRegionError, PartialCredentialsError

from opsbundle.exceptions import ConfigError

if TYPE_CHECKING:
    import boto3

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
    factory: Any = session.client if session else botocore.session.get_session().create_client
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
