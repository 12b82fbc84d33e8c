"""The pipeline-failure alert: what CodePipeline, CloudFormation and a commit say is redacted
before it reaches Slack or Chatbot, and an approval that timed out is not called a rejection."""

from __future__ import annotations

import json

from monitors.pipeline_failure.context import FailedAction, FailureContext, Revision, StackEvent
from monitors.pipeline_failure.event import PipelineFailure
from monitors.pipeline_failure.render import _action_facts, chatbot_message, slack_alert


def test_codepipeline_error_messages_and_summaries_are_redacted_too() -> None:
    """CodePipeline's error message often quotes the failing command, secrets and all."""
    command = 'curl -H "Authorization: Bearer sk_live_51HqLyjWDarjtT1zdp7dc" https://u:p4ss@x.io'
    action = FailedAction(
        stage="Build",
        action="Test",
        category="Build",
        provider="CodeBuild",
        error_code="JobFailed",
        error_message=f"Error while executing command: {command}. Reason: exit status 22",
        summary=f"Build failed: {command}",
    )
    text = "\n".join(_action_facts(action))
    assert "sk_live_51HqLyjWDarjtT1zdp7dc" not in text
    assert "p4ss" not in text
    assert "exit status 22" in text


def test_a_timed_out_approval_is_not_called_a_rejection() -> None:
    timed_out = FailedAction(
        stage="Approve",
        action="Prod",
        category="Approval",
        provider="Manual",
        error_code="JobFailed",
        error_message="Approval timed out",
    )
    assert not timed_out.rejected_approval
    assert "not a rejection" in "\n".join(_action_facts(timed_out))
    rejected = FailedAction(
        stage="Approve",
        action="Prod",
        category="Approval",
        provider="Manual",
        summary="not today",
        updated_by="arn:aws:iam::1:user/alice",
    )
    assert rejected.rejected_approval
    assert "rejected by alice: not today" in "\n".join(_action_facts(rejected))


def test_stack_event_reasons_and_commit_messages_are_redacted() -> None:
    failure = PipelineFailure(
        level="action",
        pipeline="web",
        execution_id="e-1",
        region="us-east-1",
        account="123456789012",
        time="2026-11-26T15:00:00Z",
        event_id="ev-1",
    )
    action = FailedAction(
        stage="Deploy",
        action="stack",
        category="Deploy",
        provider="CloudFormation",
        stack="web",
        stack_events=[
            StackEvent(
                "Db",
                "AWS::RDS::DBInstance",
                "CREATE_FAILED",
                "Invalid MasterUserPassword: password=Sup3rSecret! has a '/'",
                "t",
            )
        ],
    )
    context = FailureContext(
        failure=failure,
        actions=[action],
        revisions=[
            Revision(
                name="source",
                revision_id="abc",
                summary=("fix: use ghp_" + "A" * 36 + " <!channel> for the release"),
                url=None,
            )
        ],
    )
    slack = json.dumps(slack_alert(context, thread_ts=None).blocks)
    chatbot = json.dumps(chatbot_message(context))
    for text in (slack, chatbot):
        assert "Sup3rSecret!" not in text
        assert "ghp_AAAA" not in text
        assert "<!channel>" not in text  # escaped: shown, never a mention
    assert "&lt;!channel&gt;" in chatbot
