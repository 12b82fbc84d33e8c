"""Who may send to the log shipper's S3 queue, as IAM decides it with the policy's conditions.

S3 log files reach the queue three ways the shipper reads (docs/log-shipper.md, "Log files
from S3"): a bucket's own notification, a rule of EventBridge (the bucket's EventBridge
notifications on), a topic the bucket notifies. Each of the three may send from this account
only; no other service may send at all. moto ignores Conditions, so the project's evaluator
of IAM's condition operators decides (opsbundle/deployment/iam_policies.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from opsbundle.deployment.iam_policies import ACCOUNT, REGION, decide, environment

pytestmark = pytest.mark.unit

OTHER = "210987654321"
SOURCES = {  # service principal -> (a source of this account, one of another)
    "s3.amazonaws.com": ("arn:aws:s3:::acme-alb-logs", "arn:aws:s3:::someone-elses-logs"),
    "events.amazonaws.com": (
        f"arn:aws:events:{REGION}:{ACCOUNT}:rule/alb-logs-created",
        f"arn:aws:events:{REGION}:{OTHER}:rule/alb-logs-created",
    ),
    "sns.amazonaws.com": (
        f"arn:aws:sns:{REGION}:{ACCOUNT}:alb-logs-created",
        f"arn:aws:sns:{REGION}:{OTHER}:alb-logs-created",
    ),
}


@pytest.fixture(scope="module")
def queue_policy() -> tuple[str, list[dict[str, Any]]]:
    stacks = environment("dev", (("log-shipper", "S3LogBuckets", "acme-alb-logs"),))
    resources = stacks["log-shipper"].resources
    policy = resources["LogShipperS3QueuePolicy"].properties["PolicyDocument"]
    queue = resources["LogShipperS3Queue"].arn
    return queue, policy["Statement"]


def statements_for(service: str, statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The statements that name this service, or everyone, as their principal."""
    return [
        s
        for s in statements
        if s["Principal"] == "*" or service in str(s["Principal"].get("Service", ""))
    ]


def context(service: str, source: str, account: str) -> dict[str, Any]:
    return {
        "aws:SourceArn": source,
        "aws:SourceAccount": account,
        "aws:SecureTransport": "true",
        "aws:PrincipalServiceName": service,
    }


@pytest.mark.parametrize("service", sorted(SOURCES))
def test_each_way_s3_events_arrive_may_send_from_this_account_only(
    service: str, queue_policy: tuple[str, list[dict[str, Any]]]
) -> None:
    queue, statements = queue_policy
    ours, theirs = SOURCES[service]
    mine = statements_for(service, statements)
    assert decide(mine, "sqs:SendMessage", queue, context(service, ours, ACCOUNT)) == "allow"
    assert decide(mine, "sqs:SendMessage", queue, context(service, theirs, OTHER)) != "allow"
    insecure = context(service, ours, ACCOUNT) | {"aws:SecureTransport": "false"}
    assert decide(mine, "sqs:SendMessage", queue, insecure) == "deny"


def test_no_other_service_may_send(queue_policy: tuple[str, list[dict[str, Any]]]) -> None:
    queue, statements = queue_policy
    mine = statements_for("lambda.amazonaws.com", statements)
    source = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:anything"
    assert decide(mine, "sqs:SendMessage", queue, context("lambda", source, ACCOUNT)) != "allow"
