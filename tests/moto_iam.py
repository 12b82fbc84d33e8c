"""moto checking every call against the caller's IAM policies, for one block of a test."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from moto import settings
from moto.core.authorization import ActionAuthenticatorMixin


@contextmanager
def enforcing_iam() -> Iterator[None]:
    """INITIAL_NO_AUTH_ACTION_COUNT=0: moto checks actions, and resources where it knows them
    (S3, SQS, IAM roles; "*" for most services), against the caller's policies. It ignores
    Condition blocks, and names CloudWatch's actions "monitoring:" (its signing name)."""
    saved = settings.INITIAL_NO_AUTH_ACTION_COUNT
    settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
    ActionAuthenticatorMixin.request_count = 0
    try:
        yield
    finally:
        settings.INITIAL_NO_AUTH_ACTION_COUNT = saved
        ActionAuthenticatorMixin.request_count = 0
