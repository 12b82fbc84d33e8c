"""Build log lines lose their secrets and keep everything else."""

from __future__ import annotations

import json

import pytest

from monitors.redact import MASK, redact, redact_lines


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ("export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"),
        ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI"),
        ("git clone https://deploy:s3cr3tPass@github.com/acme/web.git", "s3cr3tPass"),
        ("curl -H 'Authorization: Bearer abcdef0123456789abcdef'", "abcdef0123456789abcdef"),
        ('{"password": "hunter22", "user": "app"}', "hunter22"),
        ("DB_PASSWORD=correct-horse-battery", "correct-horse-battery"),
        ("npm config set //registry.npmjs.org/:_authToken=npm_" + "a" * 36, "npm_aaaa"),
        ("SLACK=xoxb-1234567890-abcdefghij", "xoxb-1234567890"),
        ("token ghp_" + "A" * 36, "ghp_AAAA"),
        ("mysql --password=topsecret -h db", "topsecret"),
        ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N", "eyJhbGci"),
    ],
)
def test_secrets_are_masked(line: str, secret: str) -> None:
    redacted = redact(line)
    assert secret not in redacted
    assert MASK in redacted


@pytest.mark.parametrize(
    "line",
    [
        "[Container] 2026/11/26 14:09:58.123 Running command npm test",
        "FAIL src/cart.test.js › adds an item (12 ms)",
        "commit 3f2a9c1d4e5b6a7f8e9d0c1b2a3f4e5d6c7b8a9f",
        "Phase complete: BUILD State: FAILED",
    ],
)
def test_ordinary_lines_are_kept(line: str) -> None:
    assert redact(line) == line


def test_private_key_blocks_are_masked_to_their_end() -> None:
    lines = [
        "before",
        "-----BEGIN RSA PRIVATE KEY-----",
        "MIIEowIBAAKCAQEA",
        "abc",
        "-----END RSA PRIVATE KEY-----",
        "after",
    ]
    out = redact_lines(lines)
    assert out[0] == "before" and out[-1] == "after"
    assert "MIIEowIBAAKCAQEA" not in "".join(out)


def test_codepipeline_error_messages_and_summaries_are_redacted_too() -> None:
    """CodePipeline's error message often quotes the failing command, secrets and all."""
    from monitors.pipeline_context import FailedAction
    from monitors.pipeline_failure import _action_facts

    command = 'curl -H "Authorization: Bearer sk_live_51HqLyjWDarjtT1zdp7dc" https://u:p4ss@x.io'
    action = FailedAction(
        stage="Build", action="Test", category="Build", provider="CodeBuild",
        error_code="JobFailed",
        error_message=f"Error while executing command: {command}. Reason: exit status 22",
        summary=f"Build failed: {command}",
    )  # fmt: skip
    text = "\n".join(_action_facts(action))
    assert "sk_live_51HqLyjWDarjtT1zdp7dc" not in text
    assert "p4ss" not in text
    assert "exit status 22" in text


def test_a_timed_out_approval_is_not_called_a_rejection() -> None:
    from monitors.pipeline_context import FailedAction
    from monitors.pipeline_failure import _action_facts

    timed_out = FailedAction(
        stage="Approve", action="Prod", category="Approval", provider="Manual",
        error_code="JobFailed", error_message="Approval timed out",
    )  # fmt: skip
    assert not timed_out.rejected_approval
    assert "not a rejection" in "\n".join(_action_facts(timed_out))
    rejected = FailedAction(
        stage="Approve", action="Prod", category="Approval", provider="Manual",
        summary="not today", updated_by="arn:aws:iam::1:user/alice",
    )  # fmt: skip
    assert rejected.rejected_approval
    assert "rejected by alice: not today" in "\n".join(_action_facts(rejected))


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ("curl -u deploy:Tr0ub4dor https://api.example.com", "Tr0ub4dor"),
        ("curl --user deploy:Tr0ub4dor https://api.example.com", "Tr0ub4dor"),
        ("mysql -uroot -pS3cretPW -h db leads", "S3cretPW"),
        ("mysqldump -h db -u root -pS3cretPW leads > dump.sql", "S3cretPW"),
        ("Authorization: Basic ZGVwbG95OlRyMHViNGRvcg==", "ZGVwbG95OlRyMHViNGRvcg"),
        ('{"Credentials":{"SecretAccessKey":"wJalrXUtnFEMI\\/K7MDENG\\/bPxRfiCYEXAMPLEKEY"}}',
         "wJalrXUtnFEMI"),
    ],
)  # fmt: skip
def test_command_line_credentials_are_masked(line: str, secret: str) -> None:
    assert secret not in redact(line)


@pytest.mark.parametrize("with_end", [True, False])
def test_a_key_whose_begin_line_was_cut_off_is_masked(with_end: bool) -> None:
    """The kept lines are the last N: they can start inside a key block."""
    body = ["MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun",
            "VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK"]  # fmt: skip
    lines = [*body, "-----END RSA PRIVATE KEY-----", "Phase complete: BUILD State: FAILED"]
    if not with_end:
        lines = [*body, "Phase complete: BUILD State: FAILED"]
    out = redact_lines(lines)
    assert not any(part in "\n".join(out) for part in body)
    assert out[-1] == "Phase complete: BUILD State: FAILED"


def test_stack_event_reasons_and_commit_messages_are_redacted() -> None:
    from monitors.pipeline_context import (
        FailedAction,
        FailureContext,
        Revision,
        StackEvent,
    )
    from monitors.pipeline_event import PipelineFailure
    from monitors.pipeline_failure import chatbot_message, slack_alert

    failure = PipelineFailure(
        level="action", pipeline="web", execution_id="e-1", region="us-east-1",
        account="123456789012", time="2026-11-26T15:00:00Z", event_id="ev-1",
    )  # fmt: skip
    action = FailedAction(
        stage="Deploy", action="stack", category="Deploy", provider="CloudFormation",
        stack="web", stack_events=[StackEvent(
            "Db", "AWS::RDS::DBInstance", "CREATE_FAILED",
            "Invalid MasterUserPassword: password=Sup3rSecret! has a '/'", "t",
        )],
    )  # fmt: skip
    context = FailureContext(
        failure=failure, actions=[action],
        revisions=[Revision(name="source", revision_id="abc", summary=(
            "fix: use ghp_" + "A" * 36 + " <!channel> for the release"
        ), url=None)],
    )  # fmt: skip
    slack = json.dumps(slack_alert(context, thread_ts=None).blocks)
    chatbot = json.dumps(chatbot_message(context))
    for text in (slack, chatbot):
        assert "Sup3rSecret!" not in text
        assert "ghp_AAAA" not in text
        assert "<!channel>" not in text  # escaped: shown, never a mention
    assert "&lt;!channel&gt;" in chatbot
