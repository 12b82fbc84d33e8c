"""Lambda's lines, checked against other forwarders' own test data.

tests/fixtures/log_shipper/lambda_lines/ holds cases taken from the Datadog Forwarder's tests,
the Elastic Serverless Forwarder's test data, Powertools' output examples and the AWS Lambda
Developer Guide, each with a note of where it comes from: a CloudWatch message and the values
the shipper's document must have (`expect`, dotted paths) or must not have (`absent`). Every
case goes through the shipper's own transform; each expected value is one check.

`python -m tests.unit.log_shipper.test_lambda_lines_fixtures` prints the agreement figure
(cases agreeing in full, values matching) and every value that does not match.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from log_shipper.events import LogBatch, LogEvent
from log_shipper.routing import Route
from log_shipper.transform import Document, transform_batch

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "log_shipper" / "lambda_lines"
INGESTED = datetime(2026, 11, 26, 15, 5, tzinfo=UTC)
_MISSING = object()


def load_cases() -> list[tuple[str, dict[str, Any]]]:
    """(file name, case) for every case of every fixture file, in order."""
    cases = []
    for path in sorted(FIXTURES.glob("*.json")):
        for case in json.loads(path.read_text())["cases"]:
            cases.append((path.name, case))
    return cases


def documents(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The document the shipper makes of each case's message (one batch, one event each)."""
    events = [LogEvent(str(n + 1), 1795705200000 + n, c["message"]) for n, c in enumerate(cases)]
    batch = LogBatch("123456789012", "/aws/lambda/fixtures", "2026/11/26/[$LATEST]0f8a", events)
    pending = transform_batch(
        batch, Route(retention_days=None), region="eu-west-1", ingested=INGESTED
    )
    return [Document.of_pending(p).source for p in pending]


def _at(source: dict[str, Any], path: str) -> Any:
    value: Any = source
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            return _MISSING
        value = value[key]
    return value


def _same(expected: Any, actual: Any) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):  # True is not 1 here
        return type(expected) is type(actual) and expected == actual
    return bool(expected == actual)


def mismatches(case: dict[str, Any], source: dict[str, Any]) -> tuple[int, list[str]]:
    """(values checked, what did not match) for one case's document."""
    wrong = []
    for path, expected in case.get("expect", {}).items():
        actual = _at(source, path)
        if actual is _MISSING:
            wrong.append(f"{path}: expected {expected!r}, missing")
        elif not _same(expected, actual):
            wrong.append(f"{path}: expected {expected!r}, got {actual!r}")
    for path in case.get("absent", []):
        actual = _at(source, path)
        if actual is not _MISSING:
            wrong.append(f"{path}: expected absent, got {actual!r}")
    return len(case.get("expect", {})) + len(case.get("absent", [])), wrong


def agreement() -> tuple[int, int, int, int, list[str]]:
    """(cases agreeing in full, cases, values matching, values, what did not match)."""
    named = load_cases()
    sources = documents([case for _, case in named])
    agreeing = values = matching = 0
    report = []
    for (name, case), source in zip(named, sources, strict=True):
        checked, wrong = mismatches(case, source)
        values += checked
        matching += checked - len(wrong)
        agreeing += not wrong
        report.extend(f"{name} {case['id']}: {w}" for w in wrong)
    return agreeing, len(named), matching, values, report


CASES = load_cases()


def test_the_fixtures_are_well_formed() -> None:
    """Every case says where it comes from and checks something; ids are unique."""
    assert len(CASES) >= 100
    assert {name for name, _ in CASES} == {
        "aws_docs.json",
        "datadog.json",
        "elastic.json",
        "powertools.json",
    }
    ids = [case["id"] for _, case in CASES]
    assert len(ids) == len(set(ids))
    for _, case in CASES:
        assert case["from"] and (case.get("expect") or case.get("absent")), case["id"]
        assert set(case) <= {"id", "from", "message", "expect", "absent"}, case["id"]


@pytest.mark.parametrize(("name", "case"), CASES, ids=[case["id"] for _, case in CASES])
def test_each_case_gives_the_values_its_source_expects(name: str, case: dict[str, Any]) -> None:
    [source] = documents([case])
    _, wrong = mismatches(case, source)
    assert not wrong, f"{name}: {case['from']}"


def test_all_cases_agree_in_one_batch() -> None:
    """The same cases in one batch (the hot path's per-batch shortcuts in play): all agree."""
    agreeing, cases, matching, values, report = agreement()
    assert report == []
    assert (agreeing, matching) == (cases, values)


if __name__ == "__main__":
    agreeing, cases, matching, values, report = agreement()
    print(f"{agreeing} of {cases} cases agree in full; {matching} of {values} values match")
    print("\n".join(report))
    sys.exit(0 if agreeing == cases else 1)
