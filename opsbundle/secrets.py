"""Secrets from Secrets Manager, cached for the life of a warm Lambda (Powertools parameters)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError

from opsbundle import aws
from opsbundle.exceptions import OpsbundleError, SecretError

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

DEFAULT_MAX_AGE_SECONDS = 300
# Secrets Manager errors a retry cannot fix: the setting (or the role, or the key) is wrong.
# fmt: skip below: names packed, not one a line
SETUP_CODES = frozenset(
    {
        "ResourceNotFoundException",
        "AccessDeniedException",
        "DecryptionFailure",
        "InvalidRequestException",
        "InvalidParameterException",
        "ValidationException",
    }
)


class Secrets:
    """Reads a secret by ARN or name; the value is never logged or put in an error."""

    def __init__(self, *, boto3_client: Any = None, max_age: int = DEFAULT_MAX_AGE_SECONDS) -> None:
        self._client = boto3_client
        self._provider: SecretsProvider | None = None
        self._max_age = max_age

    def _secrets_provider(self) -> SecretsProvider:
        # Powertools' parameters package (and boto3's dynamodb helpers it pulls in) costs a
        # cold start 17 ms: imported when a secret is first read, not by every function.
        from aws_lambda_powertools.utilities.parameters import SecretsProvider  # noqa: PLC0415

        if self._provider is None:
            self._provider = SecretsProvider(
                boto3_client=self._client or aws.client("secretsmanager")
            )
        return self._provider

    def string(self, ref: str, *, setting: str) -> str:
        from aws_lambda_powertools.utilities.parameters.exceptions import (  # noqa: PLC0415
            GetParameterError,  # imported with the provider, on first use
        )

        try:
            value = self._secrets_provider().get(ref, max_age=self._max_age)
        except GetParameterError as error:
            cause = error.__cause__ or error.__context__
            problem = aws.setup_problem(cause) if cause else None
            if problem:
                raise problem from None
            code = _reason(error)
            if code in SETUP_CODES:
                raise SecretError(setting, f"could not read secret {ref}: {code}") from None
            # Throttling, a network blip, a service error: the work failed, the setting is fine.
            if isinstance(cause, BotoCoreError):  # no answer at all: say from where
                raise OpsbundleError(
                    aws.call_failed(cause, f"reading secret {ref} for {setting}")
                ) from None
            raise OpsbundleError(f"could not read secret {ref} ({setting}): {code}") from None
        if isinstance(value, bytes):
            value = value.decode("utf-8")
        if not isinstance(value, str) or not value.strip():
            raise SecretError(setting, f"secret {ref} is empty")
        return value.strip()

    def json_object(self, ref: str, *, setting: str) -> dict[str, Any]:
        text = self.string(ref, setting=setting)
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            raise SecretError(setting, f"secret {ref} is not a JSON object") from None
        if not isinstance(value, dict):
            raise SecretError(setting, f"secret {ref} is not a JSON object")
        return value

    def token(self, ref: str, *, setting: str, key: str = "token") -> str:
        """A token stored either as the plain secret string or as {"token": "..."}."""
        text = self.string(ref, setting=setting)
        if not text.startswith("{"):
            return text
        value = self.json_object(ref, setting=setting).get(key)
        if not isinstance(value, str) or not value:
            raise SecretError(setting, f'secret {ref} has no "{key}" string')
        return value


def _reason(error: GetParameterError) -> str:
    """The AWS error code without the secret's content (Powertools wraps the botocore error)."""
    cause = error.__cause__ or error.__context__
    if cause is None:
        return "unknown error"
    return aws.error_code(cause, type(cause).__name__)
