"""Values from events never become a mention, a second link or a label hiding its URL.

The proofs of concept of the security review: a target group dimension (any printable
ASCII), the region of a root-login event and a pipeline action's external URL, each made
into `<!channel>`, `<!here>` or `<https://evil.example/login|Sign in to AWS>`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from monitors.pipeline_failure.context import FailedAction, FailureContext
from monitors.pipeline_failure.event import PipelineFailure
from monitors.pipeline_failure.render import slack_alert
from monitors.root_login import render as root_login_render
from monitors.root_login.event import parse_root_event
from monitors.unhealthy_targets.inspector import TargetInspector
from monitors.unhealthy_targets.render import slack_blocks
from tests.unit.monitors.fixture_files import load

EVIL = "evil.example/login#|Sign in to AWS><!channel><!here>"
LINK = re.compile(r"<(https?://[^|>]*)\|([^>]*)>")


def texts(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks)


def mrkdwn(blocks: list[dict[str, Any]]) -> str:
    """Every mrkdwn text of the blocks (plain_text is never read for mentions or links)."""
    found: list[str] = []
    stack: list[Any] = list(blocks)
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("type") == "mrkdwn":
                found.append(str(item.get("text", "")))
            stack += list(item.values())
        elif isinstance(item, list):
            stack += item
    return "\n".join(found)


def assert_safe(blocks: list[dict[str, Any]]) -> None:
    text = mrkdwn(blocks)
    assert text, "no mrkdwn text to check"
    assert "<!channel>" not in text and "<!here>" not in text
    for url, _label in LINK.findall(text):
        host = url.split("/")[2]
        assert host.endswith(".console.aws.amazon.com") or host == "console.aws.amazon.com", url


def test_a_forged_root_login_region_cannot_make_a_mention_or_a_link() -> None:
    event = load("root_console_signin.json")
    event["detail"]["awsRegion"] = EVIL
    activity = parse_root_event(event)
    assert activity is not None
    assert_safe(root_login_render.alert(activity).blocks)


class GoneTargetGroups:
    def describe_target_groups(self, **kwargs: Any) -> Any:
        from botocore.exceptions import ClientError

        error = {"Error": {"Code": "TargetGroupNotFound", "Message": "gone"}}
        raise ClientError(error, "DescribeTargetGroups")  # type: ignore[arg-type]


def test_a_target_group_dimension_cannot_make_a_mention_or_a_link() -> None:
    arn = f"arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/{EVIL}/abc"
    inspector = TargetInspector(region=EVIL, elbv2_client=GoneTargetGroups())
    inspection = inspector.inspect_target_group(arn)
    assert "target group" in inspection.links
    assert_safe(slack_blocks(inspection, None, max_listed=10))


def test_a_pipeline_action_s_external_url_cannot_hide_behind_a_label() -> None:
    failure = PipelineFailure(
        level="action",
        pipeline="web",
        execution_id="e-1",
        region=EVIL,
        account="123456789012",
        time="2026-11-26T15:00:00Z",
        event_id="ev-1",
    )
    action = FailedAction(
        stage="Test",
        action="Scan",
        category="Test",
        provider="Custom",
        external_url="https://evil.example/login|Sign in to AWS",
    )
    blocks = slack_alert(FailureContext(failure=failure, actions=[action]), thread_ts=None).blocks
    assert_safe(blocks)
    assert "evil.example/login" in texts(blocks)  # shown as text, for what it is
