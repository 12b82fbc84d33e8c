"""What a secret that could not be read says: never its value, and where it could not go."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError

from opsbundle.exceptions import OpsbundleError
from opsbundle.secrets import Secrets

pytestmark = pytest.mark.unit

ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:crm-AbCdEf"


class Unreachable:
    """A Secrets Manager client with no network under it."""

    def get_secret_value(self, **_: Any) -> Any:
        raise EndpointConnectionError(
            endpoint_url="https://secretsmanager.us-east-1.amazonaws.com/"
        )


def test_an_unreachable_secrets_manager_is_named_not_just_its_error_class() -> None:
    with pytest.raises(OpsbundleError) as failed:
        Secrets(boto3_client=Unreachable()).string(ARN, setting="CRM_SECRET_ARN")
    assert str(failed.value) == (
        "could not reach https://secretsmanager.us-east-1.amazonaws.com/ "
        f"(reading secret {ARN} for CRM_SECRET_ARN)"
    )
