"""The log store's pure parts: index families and their periods, refusals read into reasons,
the ISM policy against its documented shape, shard sizing, the doctor's projection, and the
bulk sender giving up at once on what waiting cannot fix. (The node proves the rest:
tests/integration/log_shipper/test_storage.py.)"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import jsonschema
import pytest
from opensearchpy.exceptions import NotFoundError, TransportError

from log_shipper import ism, lifecycle, refusals
from log_shipper.bulk import BulkSender
from log_shipper.cluster import IndexInfo
from log_shipper.doctor import projected_shards
from log_shipper.layout import Family
from log_shipper.routing import DEFAULT_INDEX, LEGACY_INDEX
from log_shipper.template import simple_match
from opsbundle.stacks import TEMPLATES_DIR, load_template
from tests.unit.log_shipper.fakes import FIXTURES, FakeClient, documents, per_item

TODAY = date(2026, 12, 4)
GB = 1024**3


# --- families ---------------------------------------------------------------------------------


def test_a_daily_family_reads_its_periods_and_keeps_today_and_the_days_before() -> None:
    family = Family(DEFAULT_INDEX, 30)
    assert family.wildcard == "opsbundle-logs-default-*"
    assert family.period("opsbundle-logs-default-2026.11.04") == (
        date(2026, 11, 4),
        date(2026, 11, 5),
    )
    assert not family.expired("opsbundle-logs-default-2026.11.04", TODAY)  # 30 days before today
    assert family.expired("opsbundle-logs-default-2026.11.03", TODAY)
    assert family.ism_min_index_age == "31d"
    # Names the family does not make are never read as expired: never deleted.
    for other in ("opsbundle-logs-default-2026.02.30", "opsbundle-logs-default-x", "other"):
        assert family.period(other) is None and not family.expired(other, TODAY)


@pytest.mark.parametrize(
    ("pattern", "name", "period"),
    [
        ("b-{yyyy.MM}", "b-2026.12", (date(2026, 12, 1), date(2027, 1, 1))),
        ("b-{yyyy}", "b-2025", (date(2025, 1, 1), date(2026, 1, 1))),
        ("b-{yyyy}-{MM}-{dd}", "b-2026-02-28", (date(2026, 2, 28), date(2026, 3, 1))),
        (
            LEGACY_INDEX,
            "logs-aws-lambda-x-1a2b3c4d-2026.01.31",
            (date(2026, 1, 31), date(2026, 2, 1)),
        ),
        ("b-{account}-{yyyy.MM}", "b-123456789012-2026.12", (date(2026, 12, 1), date(2027, 1, 1))),
    ],
)
def test_every_date_placeholder_gives_a_period(
    pattern: str, name: str, period: tuple[date, date]
) -> None:
    assert Family(pattern, 1).period(name) == period


def test_an_undated_family_is_never_expired_and_a_monthly_one_goes_whole() -> None:
    assert Family("b-{log_group}", 1).granularity is None
    assert not Family("b-{log_group}", 1).expired("b-x", TODAY)
    monthly = Family("b-{yyyy.MM}", 30)
    assert monthly.expired("b-2026.10", TODAY)  # its last day, Oct 31, is before Nov 4
    assert not monthly.expired("b-2026.11", TODAY)
    assert monthly.ism_min_index_age == "61d"


def test_simple_match_is_opensearchs_star_only_match() -> None:
    assert simple_match("opsbundle-*", "opsbundle-logs-default-2026.12.04")
    assert simple_match("*", "x") and not simple_match("logs-*-*", "logs-x")
    assert not simple_match("a?c", "abc")  # `?` is a character, not a wildcard


# --- refusals -------------------------------------------------------------------------------


def fixture_errors() -> dict[str, Any]:
    return json.loads((FIXTURES / "storage_errors.json").read_text())


@pytest.mark.parametrize(
    ("name", "reason", "retry"),
    [
        ("flood_stage_item", "disk_full", False),
        ("index_write_block_item", "index_blocked", False),
        ("index_read_only_item", "index_blocked", False),
        ("cluster_read_only_request", "cluster_blocked", False),
        ("cluster_read_only_allow_delete_request", "disk_full", False),
        ("shard_limit_item", "shard_limit", False),
        ("circuit_breaker_transient_request", "circuit_breaker", True),
        ("circuit_breaker_permanent_request", "circuit_breaker", False),
        ("rejected_execution_item", "retries_exhausted", True),
        ("iam_denied_request", "http_403", False),
    ],
)
def test_each_refusal_is_read_into_its_reason(name: str, reason: str, retry: bool) -> None:
    case = fixture_errors()[name]
    cause = refusals.classify(case["status"], case["error"])
    assert (cause.reason, cause.retry) == (reason, retry)
    assert cause.detail and cause.detail != ": "  # the request-level detail is read too


def test_a_request_level_detail_comes_from_under_error() -> None:
    case = fixture_errors()["cluster_read_only_request"]
    assert refusals.safe_detail(case["error"]) == (
        "cluster_block_exception: blocked by: [FORBIDDEN/6/cluster read-only (api)];"
    )
    iam = fixture_errors()["iam_denied_request"]
    assert "not authorized to perform: es:ESHttpPost" in refusals.safe_detail(iam["error"])


def flood(actions: list[dict[str, Any]]) -> Any:
    case = fixture_errors()["flood_stage_item"]
    return per_item(lambda a: (case["status"], case["error"]))(actions)


def test_a_full_disk_is_not_retried_though_it_answers_429() -> None:
    slept: list[float] = []
    client = FakeClient([flood])
    result = BulkSender(client=client, sleep=slept.append).send(documents(5))
    assert [f.reason for f in result.failures] == ["disk_full"] * 5
    assert "flood-stage watermark" in result.failures[0].detail
    assert (len(client.transport.requests), slept, result.retried) == (1, [], 0)


def test_a_cluster_block_on_the_whole_request_is_named_with_its_detail() -> None:
    case = fixture_errors()["cluster_read_only_request"]
    error = TransportError(403, "cluster_block_exception", case["error"])
    client = FakeClient([error])
    result = BulkSender(client=client, sleep=lambda s: None).send(documents(2))
    assert {f.reason for f in result.failures} == {"cluster_blocked"}
    assert "cluster read-only" in result.failures[0].detail
    assert len(client.transport.requests) == 1


def test_a_lasting_circuit_breaker_keeps_its_name_after_the_retries() -> None:
    case = fixture_errors()["circuit_breaker_transient_request"]
    error = TransportError(429, "circuit_breaking_exception", case["error"])
    client = FakeClient([error] * 3)
    result = BulkSender(client=client, max_attempts=3, sleep=lambda s: None).send(documents(2))
    assert {f.reason for f in result.failures} == {"circuit_breaker"}
    assert result.failures[0].detail.startswith("3 attempts; last: circuit_breaking_exception")


def test_overload_still_ends_as_retries_exhausted() -> None:
    case = fixture_errors()["rejected_execution_item"]
    answer = per_item(lambda a: (case["status"], case["error"]))
    client = FakeClient([answer] * 3)
    result = BulkSender(client=client, max_attempts=3, sleep=lambda s: None).send(documents(1))
    assert [f.reason for f in result.failures] == ["retries_exhausted"]


# --- ISM -------------------------------------------------------------------------------------


def test_the_ism_policy_has_the_documented_shape() -> None:
    schema = json.loads((FIXTURES / "ism_policy.schema.json").read_text())
    for family in (Family(DEFAULT_INDEX, 30), Family("b-{yyyy.MM}", 400)):
        body = ism.policy_body(family)
        jsonschema.validate(body, schema)
        policy = body["policy"]
        assert policy["ism_template"] == [{"index_patterns": [family.wildcard], "priority": 237}]
        (transition,) = policy["states"][0]["transitions"]
        assert transition["conditions"] == {"min_index_age": family.ism_min_index_age}
        assert policy["states"][1]["actions"] == [{"delete": {}}]


class IsmTransport:
    """The ISM API as documented: GET 404 until put; PUT with if_seq_no to change; add."""

    def __init__(self, held: dict[str, Any] | None = None) -> None:
        self.held = held
        self.calls: list[tuple[str, str, Any]] = []

    def perform_request(self, method: str, url: str, params: Any = None, body: Any = None) -> Any:
        self.calls.append((method, url, params))
        if method == "GET":
            if self.held is None:
                raise NotFoundError(404, "not_found", {})
            return {"_id": "opsbundle-logs", "_seq_no": 7, "_primary_term": 1, "policy": self.held}
        if method == "PUT":
            if self.held is not None and not params:
                raise TransportError(409, "version_conflict_engine_exception", {})
            self.held = body["policy"]
            return {"_id": "opsbundle-logs", "_seq_no": 8, "_primary_term": 1, "policy": body}
        return {"updated_indices": 2, "failures": False, "failed_indices": []}


class IsmClient:
    def __init__(self, transport: IsmTransport) -> None:
        self.transport = transport


def test_ism_is_put_once_updated_with_its_sequence_number_and_attached() -> None:
    family = Family(DEFAULT_INDEX, 30)
    transport = IsmTransport()
    first = ism.install(IsmClient(transport), family, "opsbundle-logs")
    assert (first.put, first.attached) == (True, 2)
    assert transport.calls[-1][:2] == ("POST", "/_plugins/_ism/add/opsbundle-logs-default-*")

    # OpenSearch hands the states back with its defaults added: not a difference.
    held = json.loads(json.dumps(transport.held))
    held["states"][1]["actions"][0]["retry"] = {"count": 3, "backoff": "exponential", "delay": "1m"}
    transport = IsmTransport(held)
    assert not ism.install(IsmClient(transport), family, "opsbundle-logs").put

    longer = ism.install(IsmClient(transport), Family(DEFAULT_INDEX, 90), "opsbundle-logs")
    assert longer.put
    put = [c for c in transport.calls if c[0] == "PUT"]
    assert put[-1][2] == {"if_seq_no": 7, "if_primary_term": 1}


def test_ism_is_used_only_where_the_plugin_is() -> None:
    assert ism.has_ism([{"name": "n1", "component": "opensearch-index-management"}])
    assert not ism.has_ism([{"name": "n1", "component": "opensearch-security"}])
    assert not ism.has_ism([])


# --- maintain and doctor ----------------------------------------------------------------------


def info(name: str, size_gb: float) -> IndexInfo:
    return IndexInfo(name, 1, 0, 0, int(size_gb * GB), "green", "open")


def test_shards_follow_the_busiest_recent_day() -> None:
    family = Family(DEFAULT_INDEX, 30)
    days = [
        info(f"opsbundle-logs-default-2026.12.0{d}", size)
        for d, size in ((1, 2), (2, 80), (3, 50), (4, 500))
    ]
    # Dec 4 is today (not full yet): Dec 2's 80 GB, and a quarter more, in 30 GB shards.
    assert lifecycle.shards_for(family, days, TODAY, 30 * GB) == 4
    assert lifecycle.shards_for(family, days[:1], TODAY, 30 * GB) == 1
    assert lifecycle.shards_for(family, [], TODAY, 30 * GB) is None
    assert lifecycle.shards_for(Family("x-{log_group}"), days, TODAY, 30 * GB) is None


def test_deletes_go_a_url_at_a_time() -> None:
    names = [f"opsbundle-logs-default-2026.01.{d:02d}" for d in range(1, 32)] * 5
    chunks = lifecycle._chunks(names)
    assert sum(len(c) for c in chunks) == len(names) and len(chunks) > 1
    assert all(len(",".join(c)) <= lifecycle.URL_BUDGET for c in chunks)


def test_the_projection_counts_days_kept_copies_and_log_groups() -> None:
    assert projected_shards(Family(DEFAULT_INDEX, 30), 1, 1, 100) == 32
    assert projected_shards(Family(DEFAULT_INDEX, 30), 2, 2, 100) == 128
    # The old default: an index per log group per day.
    assert projected_shards(Family(LEGACY_INDEX, 30), 1, 2, 100) == 6400
    assert projected_shards(Family("b-{yyyy.MM}", 365), 1, 1, 1) == 15
    assert projected_shards(Family("b-{log_group}"), 1, 1, 50) == 50


# --- the stack ------------------------------------------------------------------------------


def test_each_named_reason_has_its_own_alarm_in_the_stack() -> None:
    stack = load_template(TEMPLATES_DIR / "log-shipper.yaml")
    alarms = {
        props["MetricName"]: props
        for resource in stack["Resources"].values()
        if isinstance(resource, dict) and resource.get("Type") == "AWS::CloudWatch::Alarm"
        for props in [resource["Properties"]]
    }
    for reason in refusals.NAMED:
        alarm = alarms[f"DeadLettered_{reason}"]
        assert alarm["Namespace"] == "opsbundle" and "replay" in alarm["AlarmDescription"]
    assert "DoctorFailures" in alarms
    functions = [
        r["Properties"]["Handler"]
        for r in stack["Resources"].values()
        if isinstance(r, dict) and r.get("Type") == "AWS::Lambda::Function"
    ]
    assert "log_shipper.maintain.handler" in functions
