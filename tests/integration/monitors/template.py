"""cloudformation/monitors.yaml as data, for tests that check what it deploys."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import yaml

REGION = "us-east-1"
TEMPLATE = Path(__file__).resolve().parents[3] / "cloudformation" / "monitors.yaml"


class _Loader(yaml.SafeLoader):
    """Reads CloudFormation's short-form intrinsics (!Ref, !Sub...) as {"Fn": value}."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {suffix: value}


_Loader.add_multi_constructor("!", _intrinsic)


def resources() -> dict[str, Any]:
    data = yaml.load(TEMPLATE.read_text(), Loader=_Loader)  # noqa: S506 - SafeLoader subclass
    return dict(data["Resources"])


def delivered(rule: str, event: dict[str, Any]) -> bool:
    """Whether EventBridge (moto) hands `event` to the target of the template's `rule`:
    put_rule with the template's pattern, an SQS target, put_events, read the queue."""
    events = boto3.client("events", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName=f"{rule}-target")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    pattern = resources()[rule]["Properties"]["EventPattern"]
    events.put_rule(Name=rule, EventPattern=json.dumps(pattern), State="ENABLED")
    events.put_targets(Rule=rule, Targets=[{"Id": "q", "Arn": arn}])
    put = events.put_events(
        Entries=[
            {
                "Source": event["source"],
                "DetailType": event["detail-type"],
                "Detail": json.dumps(event["detail"]),
                "Resources": event.get("resources", []),
            }
        ]
    )
    assert put["FailedEntryCount"] == 0
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return bool(got)
