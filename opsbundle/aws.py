"""boto3 clients with standard retries. boto3 itself honours AWS_ENDPOINT_URL and AWS_PROFILE.

The region: an explicit one (a `--region` flag), else AWS_REGION, else what boto3 finds
(AWS_DEFAULT_REGION, the profile's). boto3 alone does not read AWS_REGION, which Lambda, the
AWS CLI's users and the README all set.
"""

from __future__ import annotations

import os
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import NoCredentialsError, NoRegionError, PartialCredentialsError

from opsbundle.exceptions import ConfigError

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
    factory: Any = (session or boto3.Session()).client  # typed per service by boto3-stubs
    try:
        return factory(service, region_name=region_name(region), config=config or RETRIES)
    except NoRegionError as error:
        problem = setup_problem(error)
        assert problem is not None
        raise problem from None


def region_name(explicit: str | None = None) -> str | None:
    """explicit > AWS_REGION > None (boto3 then reads AWS_DEFAULT_REGION and the profile)."""
    return explicit or os.environ.get("AWS_REGION", "").strip() or None


def resolved_region(explicit: str | None = None, *, flag: str = "--region") -> str:
    """The region a command works in: `explicit` (from `flag`), AWS_REGION, or boto3's."""
    region = region_name(explicit) or boto3.Session().region_name
    if not region:
        raise ConfigError(flag, NO_REGION)
    setting = flag if explicit else "AWS_REGION"
    return known_region(str(region), setting=setting)


def known_region(region: str, *, setting: str) -> str:
    """`region` when botocore knows it: a typo (`mars-1`) is named here, rather than failing
    later as a host name that does not resolve."""
    session = boto3.Session()
    known = {
        name
        for partition in session.get_available_partitions()
        for name in session.get_available_regions("sts", partition)
    }
    if region not in known:
        raise ConfigError(setting, f"unknown region {region!r}; e.g. us-east-1, eu-west-1 "
                          "(aws ec2 describe-regions lists the account's)")  # fmt: skip
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
