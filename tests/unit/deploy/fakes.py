"""A scripted CloudFormation client with the API's response shapes, for unit tests.

It answers from what each test sets up: stacks by name (status, outputs), what the next
change set will look like (a DescribeChangeSet fixture) and the events an execution
produces. Everything it is asked is recorded in `calls`.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "deploy"


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


def missing_stack(name: str, operation: str = "DescribeStacks") -> ClientError:
    return ClientError(
        {"Error": {"Code": "ValidationError", "Message": f"Stack with id {name} does not exist"}},
        operation,
    )


class FakeCloudFormation:
    def __init__(self) -> None:
        self.stacks: dict[str, dict[str, Any]] = {}
        self.next_change_set: dict[str, dict[str, Any]] = {}  # stack -> DescribeChangeSet
        self.pending_polls: int = 0  # CREATE_PENDING answers before the final one
        self.execution: dict[str, tuple[str, list[dict[str, Any]]]] = {}  # final status, events
        self.change_sets: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def add_stack(self, name: str, status: str, outputs: dict[str, str] | None = None) -> None:
        self.stacks[name] = {
            "StackName": name,
            "StackStatus": status,
            "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in (outputs or {}).items()],
            "events": [],
        }

    # --- the API ------------------------------------------------------------------------

    def describe_stacks(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("describe_stacks", kwargs))
        stack = self.stacks.get(kwargs["StackName"])
        if stack is None:
            raise missing_stack(kwargs["StackName"])
        return {"Stacks": [{k: v for k, v in stack.items() if k != "events"}]}

    def create_change_set(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("create_change_set", kwargs))
        name = kwargs["StackName"]
        if kwargs["ChangeSetType"] == "CREATE" and name not in self.stacks:
            self.add_stack(name, "REVIEW_IN_PROGRESS")
        arn = (
            "arn:aws:cloudformation:us-east-1:123456789012:changeSet/"
            f"{kwargs['ChangeSetName']}/{len(self.change_sets)}"
        )
        answer = copy.deepcopy(
            self.next_change_set.get(name) or fixture("describe_change_set_empty.json")
        )
        answer.update(
            {"ChangeSetId": arn, "StackName": name, "ChangeSetName": kwargs["ChangeSetName"]}
        )
        self.change_sets[arn] = {"answer": answer, "polls": self.pending_polls, "stack": name}
        return {"Id": arn, "StackId": f"stack/{name}"}

    def describe_change_set(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("describe_change_set", kwargs))
        entry = self.change_sets[kwargs["ChangeSetName"]]
        if entry["polls"]:
            entry["polls"] -= 1
            return {"Status": "CREATE_PENDING", "ExecutionStatus": "UNAVAILABLE", "Changes": []}
        answer: dict[str, Any] = entry["answer"]
        return answer

    def delete_change_set(self, **kwargs: Any) -> None:
        self.calls.append(("delete_change_set", kwargs))
        self.change_sets.pop(kwargs["ChangeSetName"], None)

    def delete_stack(self, **kwargs: Any) -> None:
        self.calls.append(("delete_stack", kwargs))
        self.stacks.pop(kwargs["StackName"], None)

    def execute_change_set(self, **kwargs: Any) -> None:
        self.calls.append(("execute_change_set", kwargs))
        stack = self.stacks[self.change_sets[kwargs["ChangeSetName"]]["stack"]]
        final, events = self.execution.get(stack["StackName"], ("UPDATE_COMPLETE", []))
        stack["StackStatus"] = final
        stack["events"] = events + stack["events"]

    def describe_stack_events(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("describe_stack_events", kwargs))
        stack = self.stacks.get(kwargs["StackName"])
        if stack is None:
            raise missing_stack(kwargs["StackName"], "DescribeStackEvents")
        return {"StackEvents": stack["events"]}

    def called(self, operation: str) -> list[dict[str, Any]]:
        return [kwargs for name, kwargs in self.calls if name == operation]
