"""Change sets: the diff a reader sees, empty ones, blocked stacks, failed executions."""

from __future__ import annotations

import pytest

from opsbundle.changesets import ChangeSet, ResourceChange, Stacks, render_diff
from opsbundle.exceptions import DeployError
from tests.unit.deploy.fakes import FakeCloudFormation, fixture

STACK = "opsbundle-dev-report"


def stacks(fake: FakeCloudFormation) -> Stacks:
    return Stacks(fake, sleep=lambda seconds: None, poll_seconds=0)


def create(fake: FakeCloudFormation) -> ChangeSet:
    return stacks(fake).create_change_set(
        STACK,
        name="opsbundle-test",
        template_body="Resources: {}",
        template_url=None,
        parameters={"ReportCodeKey": "lambda/report_fn/abc.zip"},
        capabilities=["CAPABILITY_IAM"],
        tags={"opsbundle:environment": "dev"},
        description="test",
    )


def test_the_diff_names_each_resource_and_flags_replacements() -> None:
    fake = FakeCloudFormation()
    fake.add_stack(STACK, "UPDATE_COMPLETE")
    fake.next_change_set[STACK] = fixture("describe_change_set_update.json")
    fake.pending_polls = 2

    change_set = create(fake)

    assert render_diff(change_set) == [
        f"{STACK}: update, 5 resource change(s)",
        "  ~ modify                ReportFunction (AWS::Lambda::Function) "
        "[opsbundle-dev-report-report]",
        "  ! replace               ReportLedgerTable (AWS::DynamoDB::Table) "
        "[opsbundle-dev-report-ReportLedgerTable-1ABCDEFGHIJK]",
        "  ? modify (may replace)  ReportFunctionRole (AWS::IAM::Role) "
        "[opsbundle-dev-report-ReportFunctionRole-2BCDEFGHIJKL]",
        "  + add                   ReportExtraQueue (AWS::SQS::Queue)",
        "  - remove                ReportOldAlarm (AWS::CloudWatch::Alarm) "
        "[opsbundle-dev-report-old]",
        "  ! replaced resources get a new physical ID; data in them is not moved: "
        "ReportLedgerTable",
    ]
    assert len(fake.called("describe_change_set")) == 3  # two CREATE_PENDING polls, then done
    [request] = fake.called("create_change_set")
    assert request["ChangeSetType"] == "UPDATE"
    assert request["Parameters"] == [
        {"ParameterKey": "ReportCodeKey", "ParameterValue": "lambda/report_fn/abc.zip"}
    ]
    assert request["Tags"] == [{"Key": "opsbundle:environment", "Value": "dev"}]


def test_a_change_set_without_changes_is_empty_not_a_failure() -> None:
    fake = FakeCloudFormation()
    fake.add_stack(STACK, "UPDATE_COMPLETE")

    change_set = create(fake)

    assert change_set.empty
    assert render_diff(change_set) == [f"{STACK}: no changes"]


def test_the_older_no_updates_wording_is_empty_too() -> None:
    change_set = ChangeSet(
        STACK, "n", "arn", "UPDATE", "FAILED", "No updates are to be performed.", ()
    )
    assert change_set.empty


def test_a_change_set_that_failed_for_another_reason_is_an_error() -> None:
    fake = FakeCloudFormation()
    fake.add_stack(STACK, "UPDATE_COMPLETE")
    answer = fixture("describe_change_set_empty.json")
    answer["StatusReason"] = "Parameters: [SlackChannel] must have values"
    fake.next_change_set[STACK] = answer

    with pytest.raises(
        DeployError,
        match=r"^opsbundle-dev-report: the change set failed: "
        r"Parameters: \[SlackChannel\] must have values$",
    ):
        create(fake)


@pytest.mark.parametrize(
    ("status", "kind"),
    [(None, "CREATE"), ("REVIEW_IN_PROGRESS", "CREATE"), ("CREATE_COMPLETE", "UPDATE"),
     ("UPDATE_COMPLETE", "UPDATE"), ("UPDATE_ROLLBACK_COMPLETE", "UPDATE")],
)  # fmt: skip  # one case a line
def test_change_set_type_follows_the_stack(status: str | None, kind: str) -> None:
    fake = FakeCloudFormation()
    if status:
        fake.add_stack(STACK, status)
    assert stacks(fake).change_set_kind(STACK) == kind


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("UPDATE_ROLLBACK_FAILED", "an update failed and so did its rollback; fix the cause in "
         "its events, then run aws cloudformation continue-update-rollback --stack-name "
         "opsbundle-dev-report"),
        ("ROLLBACK_COMPLETE", "its first creation failed and rolled back; delete it (aws "
         "cloudformation delete-stack --stack-name opsbundle-dev-report) and deploy again"),
        ("UPDATE_IN_PROGRESS", "another operation is running; wait for it to finish"),
        ("DELETE_FAILED", "a deletion failed; delete it again (aws cloudformation delete-stack "
         "--stack-name opsbundle-dev-report), retaining what its events name"),
    ],
)  # fmt: skip  # one case a line
def test_a_blocked_stack_says_what_to_do(status: str, expected: str) -> None:
    fake = FakeCloudFormation()
    fake.add_stack(STACK, status)

    with pytest.raises(DeployError) as raised:
        stacks(fake).change_set_kind(STACK)

    assert str(raised.value) == f"{STACK} is {status}: {expected}"
    assert fake.called("create_change_set") == []


def test_execution_prints_progress_and_returns_the_outputs() -> None:
    fake = FakeCloudFormation()
    fake.add_stack(
        STACK, "UPDATE_COMPLETE", outputs={"ReportFunctionName": "opsbundle-dev-report-report"}
    )
    fake.next_change_set[STACK] = fixture("describe_change_set_update.json")
    events = fixture("stack_events_update_rollback.json")["StackEvents"][3:]  # the good part
    events.insert(
        0,
        {
            **events[-1],
            "EventId": "done",
            "ResourceStatus": "UPDATE_COMPLETE",
            "ResourceStatusReason": None,
        },
    )
    fake.execution[STACK] = ("UPDATE_COMPLETE", events)
    lines: list[str] = []

    outputs = stacks(fake).execute(create(fake), progress=lines.append)

    assert outputs == {"ReportFunctionName": "opsbundle-dev-report-report"}
    assert lines == [
        "    UPDATE_IN_PROGRESS           opsbundle-dev-report (AWS::CloudFormation::Stack)",
        "    UPDATE_IN_PROGRESS           ReportFunction (AWS::Lambda::Function)",
        "    UPDATE_COMPLETE              opsbundle-dev-report (AWS::CloudFormation::Stack)",
    ]


def test_a_rolled_back_execution_names_the_stack_its_state_and_the_first_failure() -> None:
    fake = FakeCloudFormation()
    fake.add_stack(STACK, "UPDATE_COMPLETE")
    fake.next_change_set[STACK] = fixture("describe_change_set_update.json")
    fake.execution[STACK] = (
        "UPDATE_ROLLBACK_COMPLETE",
        fixture("stack_events_update_rollback.json")["StackEvents"],
    )
    lines: list[str] = []

    with pytest.raises(DeployError) as raised:
        stacks(fake).execute(create(fake), progress=lines.append)

    assert str(raised.value).startswith(
        "opsbundle-dev-report stopped at UPDATE_ROLLBACK_COMPLETE: ReportFunction: "
        'Resource handler returned message: "Error occurred while GetObject. '
        "S3 Error Code: NoSuchKey."
    )
    assert any(line.startswith("    UPDATE_FAILED                ReportFunction") for line in lines)


def test_discarding_a_create_change_set_removes_the_empty_review_stack() -> None:
    fake = FakeCloudFormation()
    fake.next_change_set[STACK] = fixture("describe_change_set_update.json")
    change_set = create(fake)
    assert change_set.kind == "CREATE"

    stacks(fake).discard(change_set)

    assert fake.called("delete_change_set") == [{"ChangeSetName": change_set.arn}]
    assert fake.called("delete_stack") == [{"StackName": STACK}]


def test_discarding_an_update_change_set_keeps_the_stack() -> None:
    fake = FakeCloudFormation()
    fake.add_stack(STACK, "UPDATE_COMPLETE")
    change_set = create(fake)

    stacks(fake).discard(change_set)

    assert fake.called("delete_stack") == []
    assert STACK in fake.stacks


def test_resource_change_reads_the_api_shape() -> None:
    [first, second, *_] = fixture("describe_change_set_update.json")["Changes"]
    assert ResourceChange.from_api(first).verb == "modify"
    assert ResourceChange.from_api(second).verb == "replace"
