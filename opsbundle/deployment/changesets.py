"""CloudFormation change sets: create one, read what it would change, execute it, wait.

Shapes are CloudFormation's (DescribeChangeSet, DescribeStacks, DescribeStackEvents): a
change set with no changes ends FAILED with the reason "The submitted information didn't
contain changes. Submit different information to create a change set." (or "No updates are
to be performed."), which is not a failure here: it is "no changes".
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from opsbundle import aws
from opsbundle.exceptions import DeployError

EMPTY_REASONS = ("didn't contain changes", "No updates are to be performed")
# States from which a change set can be made; REVIEW_IN_PROGRESS: created by a change set
# that was never executed, so the stack is still new (type CREATE).
NEW = frozenset({"REVIEW_IN_PROGRESS"})
UPDATABLE = frozenset({
    "CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE",
    "IMPORT_COMPLETE", "IMPORT_ROLLBACK_COMPLETE",
})  # fmt: skip  # names packed, not one a line
DONE = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"})
# What to do about a stack that can't take a change set, by its status.
BLOCKED_HINTS = {
    "ROLLBACK_COMPLETE": "its first creation failed and rolled back; delete it "
    "(aws cloudformation delete-stack --stack-name {stack}) and deploy again",
    "ROLLBACK_FAILED": "its first creation failed and so did the rollback; delete it, "
    "retaining the resources named in its events, then deploy again",
    "UPDATE_ROLLBACK_FAILED": "an update failed and so did its rollback; fix the cause "
    "in its events, then run aws cloudformation continue-update-rollback --stack-name {stack}",
    "DELETE_FAILED": "a deletion failed; delete it again (aws cloudformation delete-stack "
    "--stack-name {stack}), retaining what its events name",
}
Sleep = Callable[[float], None]
Clock = Callable[[], float]


@dataclass(frozen=True)
class ResourceChange:
    action: str  # Add, Modify, Remove, Import, Dynamic
    logical_id: str
    resource_type: str
    replacement: str | None = None  # "True", "False", "Conditional" (Modify only)
    physical_id: str | None = None

    @classmethod
    def from_api(cls, change: Mapping[str, Any]) -> ResourceChange:
        detail = change.get("ResourceChange", {})
        return cls(
            action=str(detail.get("Action", "?")),
            logical_id=str(detail.get("LogicalResourceId", "?")),
            resource_type=str(detail.get("ResourceType", "?")),
            replacement=detail.get("Replacement"),
            physical_id=detail.get("PhysicalResourceId"),
        )

    @property
    def verb(self) -> str:
        if self.action == "Modify" and self.replacement == "True":
            return "replace"
        if self.action == "Modify" and self.replacement == "Conditional":
            return "modify (may replace)"
        return {
            "Add": "add",
            "Modify": "modify",
            "Remove": "remove",
            "Import": "import",
            "Dynamic": "dynamic",
        }.get(self.action, self.action.lower())


@dataclass(frozen=True)
class ChangeSet:
    stack_name: str
    name: str
    arn: str
    kind: str  # CREATE or UPDATE
    status: str
    reason: str
    changes: tuple[ResourceChange, ...]

    @property
    def empty(self) -> bool:
        return self.status == "FAILED" and any(text in self.reason for text in EMPTY_REASONS)


MARKS = {"add": "+", "modify": "~", "replace": "!", "modify (may replace)": "?",
         "remove": "-", "import": ">", "dynamic": "*"}  # fmt: skip  # names packed, not one a line


def render_diff(change_set: ChangeSet) -> list[str]:
    """What a reader needs before saying yes: one line per resource, replacements flagged."""
    title = "create" if change_set.kind == "CREATE" else "update"
    if change_set.empty:
        return [f"{change_set.stack_name}: no changes"]
    lines = [f"{change_set.stack_name}: {title}, {len(change_set.changes)} resource change(s)"]
    width = max((len(c.verb) for c in change_set.changes), default=0)
    for change in change_set.changes:
        mark = MARKS.get(change.verb, " ")
        where = f" [{change.physical_id}]" if change.physical_id else ""
        lines.append(
            f"  {mark} {change.verb:<{width}}  {change.logical_id} ({change.resource_type}){where}"
        )
    replaced = [c.logical_id for c in change_set.changes if c.verb == "replace"]
    if replaced:
        lines.append(
            f"  ! replaced resources get a new physical ID; data in them is not moved: "
            f"{', '.join(replaced)}"
        )
    return lines


class Stacks:
    """One region's CloudFormation, through a boto3 client, with an injectable clock."""

    def __init__(
        self,
        cloudformation: Any,
        *,
        sleep: Sleep = time.sleep,
        clock: Clock = time.monotonic,
        poll_seconds: float = 5.0,
        timeout_seconds: float = 3600.0,
    ) -> None:
        self._cfn = cloudformation
        self._sleep = sleep
        self._clock = clock
        self._poll = poll_seconds
        self._timeout = timeout_seconds

    # --- reading ---------------------------------------------------------------------------

    def describe(self, stack_name: str) -> dict[str, Any] | None:
        try:
            stacks = self._cfn.describe_stacks(StackName=stack_name)["Stacks"]
        except ClientError as error:
            if aws.error_code(error) == "ValidationError" and "does not exist" in _message(error):
                return None
            raise
        return dict(stacks[0]) if stacks else None

    def status(self, stack_name: str) -> str | None:
        stack = self.describe(stack_name)
        return None if stack is None else str(stack["StackStatus"])

    def outputs(self, stack_name: str) -> dict[str, str]:
        stack = self.describe(stack_name)
        if stack is None:
            return {}
        return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}

    def change_set_kind(self, stack_name: str) -> str:
        """CREATE or UPDATE; raises DeployError naming what to do for a blocked stack."""
        status = self.status(stack_name)
        if status is None or status in NEW:
            return "CREATE"
        if status in UPDATABLE:
            return "UPDATE"
        raise DeployError(blocked_message(stack_name, status))

    # --- change sets -------------------------------------------------------------------------

    def create_change_set(
        self,
        stack_name: str,
        *,
        name: str,
        template_body: str | None,
        template_url: str | None,
        parameters: Mapping[str, str],
        capabilities: Sequence[str],
        tags: Mapping[str, str],
        description: str,
        on_wait: Callable[[str, float], Any] | None = None,
    ) -> ChangeSet:
        """Create the change set and wait for it; `on_wait(status, seconds)` at each poll."""
        kind = self.change_set_kind(stack_name)
        request: dict[str, Any] = {
            "StackName": stack_name,
            "ChangeSetName": name,
            "ChangeSetType": kind,
            "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
            "Capabilities": list(capabilities),
            "Tags": [{"Key": k, "Value": v} for k, v in tags.items()],
            "Description": description[:1024],
        }
        if template_url:
            request["TemplateURL"] = template_url
        else:
            request["TemplateBody"] = template_body
        try:
            arn = self._cfn.create_change_set(**request)["Id"]
        except ClientError as error:
            raise DeployError(
                f"{stack_name}: CloudFormation refused the change set: {_message(error)}"
            ) from None
        return self._wait_for_change_set(stack_name, name, arn, kind, on_wait)

    def _wait_for_change_set(
        self,
        stack_name: str,
        name: str,
        arn: str,
        kind: str,
        on_wait: Callable[[str, float], Any] | None,
    ) -> ChangeSet:
        started = self._clock()
        deadline = started + self._timeout
        while True:
            pages = list(self._describe_change_set_pages(arn))
            status = str(pages[0].get("Status", ""))
            if on_wait:
                on_wait(status, self._clock() - started)
            if status in ("CREATE_COMPLETE", "FAILED"):
                break
            if self._clock() > deadline:
                raise DeployError(
                    f"{stack_name}: change set {name} still {status} after {self._timeout:.0f}s"
                )
            self._sleep(self._poll)
        change_set = ChangeSet(
            stack_name=stack_name,
            name=name,
            arn=arn,
            kind=kind,
            status=status,
            reason=str(pages[0].get("StatusReason", "")),
            changes=tuple(
                ResourceChange.from_api(c) for page in pages for c in page.get("Changes", [])
            ),
        )
        if status == "FAILED" and not change_set.empty:
            raise DeployError(f"{stack_name}: the change set failed: {change_set.reason}")
        return change_set

    def _describe_change_set_pages(self, arn: str) -> Iterator[dict[str, Any]]:
        token: str | None = None
        while True:
            args = {"ChangeSetName": arn, **({"NextToken": token} if token else {})}
            page = self._cfn.describe_change_set(**args)
            yield page
            token = page.get("NextToken")
            if not token:
                return

    def discard(self, change_set: ChangeSet) -> None:
        """Delete a change set that will not run, and the empty stack a CREATE one made."""
        with contextlib.suppress(ClientError):  # already gone: the stack was deleted
            self._cfn.delete_change_set(ChangeSetName=change_set.arn)
        if change_set.kind == "CREATE" and self.status(change_set.stack_name) in NEW:
            self._cfn.delete_stack(StackName=change_set.stack_name)

    def execute(self, change_set: ChangeSet, *, progress: Callable[[str], None]) -> dict[str, str]:
        """Run the change set and wait; print each resource event; return the outputs."""
        seen = {e["EventId"] for e in self._events(change_set.stack_name)}
        try:
            self._cfn.execute_change_set(ChangeSetName=change_set.arn)
        except (ClientError, BotoCoreError, ResponseParserError) as error:
            raise DeployError(
                f"{change_set.stack_name}: could not execute the change set: {_message(error)}"
            ) from None
        deadline = self._clock() + self._timeout
        failures: list[str] = []
        while True:
            for event in reversed(self._events(change_set.stack_name)):
                if event["EventId"] in seen:
                    continue
                seen.add(event["EventId"])
                progress(_event_line(event))
                if str(event.get("ResourceStatus", "")).endswith("_FAILED"):
                    failures.append(
                        f"{event.get('LogicalResourceId')}: {event.get('ResourceStatusReason', '')}"
                    )
            status = self.status(change_set.stack_name) or "DELETED"
            if not status.endswith("_IN_PROGRESS"):
                break
            if self._clock() > deadline:
                raise DeployError(
                    f"{change_set.stack_name}: still {status} after {self._timeout:.0f}s; "
                    "CloudFormation carries on: watch the stack's events"
                )
            self._sleep(self._poll)
        if status not in DONE:
            cause = failures[0] if failures else "see the stack's events"
            raise DeployError(f"{change_set.stack_name} stopped at {status}: {cause}")
        return self.outputs(change_set.stack_name)

    def _events(self, stack_name: str) -> list[dict[str, Any]]:
        """The most recent page of events (newest first): enough between two polls."""
        try:
            return list(
                self._cfn.describe_stack_events(StackName=stack_name).get("StackEvents", [])
            )
        except ClientError as error:
            if "does not exist" in _message(error):
                return []
            raise


def blocked_message(stack_name: str, status: str) -> str:
    if status.endswith("_IN_PROGRESS"):
        return f"{stack_name} is {status}: another operation is running; wait for it to finish"
    hint = BLOCKED_HINTS.get(status, "it cannot take a change set in this state")
    return f"{stack_name} is {status}: {hint.format(stack=stack_name)}"


def _event_line(event: Mapping[str, Any]) -> str:
    reason = event.get("ResourceStatusReason")
    status, logical = event.get("ResourceStatus", "?"), event.get("LogicalResourceId", "?")
    text = f"    {status:<28} {logical} ({event.get('ResourceType', '?')})"
    return f"{text}: {reason}" if reason and "FAILED" in str(event.get("ResourceStatus")) else text


def _message(error: Exception) -> str:
    """The service's own message, on one line."""
    if isinstance(error, ClientError):
        return aws.error_message(error) or str(error)
    return " ".join(str(error).split())
