"""The handler's contract with Lambda: what it returns for Kinesis batches and SQS messages,
when it raises, what it logs and counts, and what a warm container keeps."""

from __future__ import annotations

import base64
import gzip
import json
import time
from typing import Any

import pytest

from log_shipper import handler
from log_shipper.assemble import WarmClients
from log_shipper.exceptions import DeadLetterError
from tests.unit.log_shipper.fakes import FakeClient, fixture, per_item


class Context:
    aws_request_id = "6f3c2a1e-9d0b-4c5f-8e7a-1b2c3d4e5f60"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def use(monkeypatch: pytest.MonkeyPatch, client: FakeClient, s3: Any, bucket: str = "dlq") -> None:
    monkeypatch.setenv("OPENSEARCH_URL", "http://opensearch.invalid:9200")
    monkeypatch.setenv("LOG_SHIPPER_DLQ_BUCKET", bucket)
    monkeypatch.setenv("LOG_SHIPPER_INSTALL_TEMPLATE", "false")
    # The fixtures hold AWS's own sample events (2015): kept for ever, they are shipped.
    monkeypatch.setenv("LOG_SHIPPER_RETENTION_DAYS", "0")
    monkeypatch.setattr(handler, "WARM", WarmClients(opensearch_client=client, s3_client=s3))


REFUSED = {
    "type": "illegal_argument_exception",
    "reason": 'Document contains at least one immense term in field="message"',
}


def test_kinesis_records_that_could_not_be_made_durable_are_reported(
    monkeypatch: pytest.MonkeyPatch, s3: Any
) -> None:
    use(monkeypatch, FakeClient([per_item(lambda a: (400, REFUSED))]), s3, bucket="no-such-bucket")

    answer = handler.handler(fixture("kinesis_event.json"), Context())

    assert answer["batchItemFailures"] == [
        {"itemIdentifier": "49590338271490256608559692538361571095921575989136588898"},
        {"itemIdentifier": "49590338271490256608559692538361571095921575989136588900"},
    ]  # the control message (…899) is done; the other two are retried by Lambda


def test_kinesis_records_dead_lettered_are_not_failures(
    monkeypatch: pytest.MonkeyPatch, s3: Any
) -> None:
    use(monkeypatch, FakeClient([per_item(lambda a: (400, REFUSED))]), s3)

    answer = handler.handler(fixture("kinesis_event.json"), Context())

    assert answer["batchItemFailures"] == []
    assert answer["dead_lettered"] == {"illegal_argument_exception": 7, "malformed_payload": 1}


def test_a_direct_invocation_raises_only_when_not_durable(
    monkeypatch: pytest.MonkeyPatch, s3: Any
) -> None:
    event = fixture("cloudwatch_logs_event.json")
    use(monkeypatch, FakeClient([per_item(lambda a: (400, REFUSED))]), s3)
    summary = handler.handler(event, Context())
    assert summary["dead_lettered"] == {"illegal_argument_exception": 2}
    assert len(summary["dead_letter_keys"]) == 1

    use(monkeypatch, FakeClient([per_item(lambda a: (400, REFUSED))]), s3, bucket="no-such-bucket")
    with pytest.raises(DeadLetterError, match="Lambda will retry"):
        handler.handler(event, Context())


def test_missing_settings_fail_the_invocation_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from opsbundle.exceptions import ConfigError

    with pytest.raises(ConfigError, match="OPENSEARCH_URL"):
        handler.handler(fixture("cloudwatch_logs_event.json"), Context())
    assert '"ShipFailed"' in capsys.readouterr().out


def test_no_personal_data_in_the_logs(
    monkeypatch: pytest.MonkeyPatch, s3: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    secret_line = '{"email": "jane@example.com", "note": "call 212-555-0187"}'
    decoded = fixture("lambda_payload.json")
    decoded["logEvents"] = [{"id": "1", "timestamp": 1795705200000, "message": secret_line}]
    from log_shipper.events import encode_payload

    mapping = fixture("bulk_response_errors.json")["items"][2]["create"]["error"]
    mapping["reason"] = mapping["reason"].replace("{email=jane@example.com}", "jane@example.com")
    use(monkeypatch, FakeClient([per_item(lambda a: (400, mapping))] * 2), s3)

    handler.handler({"awslogs": {"data": encode_payload(decoded)}}, Context())

    out = capsys.readouterr()
    assert "jane@example.com" not in out.out + out.err
    assert "212-555-0187" not in out.out + out.err


def test_a_warm_lambda_reuses_its_clients(s3: Any) -> None:
    from log_shipper.config import ShipperSettings
    from opsbundle.settings import Env

    settings = ShipperSettings.load(
        Env({"OPENSEARCH_URL": "http://a", "LOG_SHIPPER_DLQ_BUCKET": "b"})
    )
    warm = WarmClients()
    first = warm.clients(settings)
    assert warm.clients(settings) == first  # same connections on the next invocation
    assert warm.clients(settings)[0] is first[0]
    other = ShipperSettings.load(Env({"OPENSEARCH_URL": "http://b", "LOG_SHIPPER_DLQ_BUCKET": "b"}))
    assert warm.clients(other)[0] is not first[0]


def test_each_run_reports_how_far_behind_the_logs_it_is(
    monkeypatch: pytest.MonkeyPatch, s3: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """IngestLagSeconds: now minus the newest event's own time (the dashboard's lag panel)."""
    event = fixture("cloudwatch_logs_event.json")
    use(monkeypatch, FakeClient([per_item(lambda a: (201, None))]), s3)
    handler.handler(event, Context())
    emf = [
        json.loads(line)
        for line in capsys.readouterr().out.splitlines()
        if line.startswith('{"_aws"')
    ]
    (lag,) = [doc["IngestLagSeconds"] for doc in emf if "IngestLagSeconds" in doc]
    lag = lag[0] if isinstance(lag, list) else lag
    payload = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
    newest = max(e["timestamp"] for e in payload["logEvents"]) / 1000
    assert abs(lag - (time.time() - newest)) < 60
    # And what a dashboard divides: the bulk requests' latency added up, and how many.
    (run,) = [doc for doc in emf if "BulkRequests" in doc]
    assert run["BulkRequests"] in (1, [1]) and "BulkLatency" in run
    assert run["EventsIndexed"] in (len(payload["logEvents"]), [len(payload["logEvents"])])


def test_opensearch_down_on_a_cold_start_still_dead_letters_the_events(
    monkeypatch: pytest.MonkeyPatch, s3: Any
) -> None:
    """The template cannot be installed while OpenSearch is down; the events must still
    reach the dead letters (raising would only repeat the outage on every retry)."""
    from opensearchpy.exceptions import ConnectionError as OpenSearchConnectionError

    class Indices:
        def get_index_template(self, **kwargs: Any) -> Any:
            raise OpenSearchConnectionError("N/A", "connection refused", None)

    client = FakeClient([OpenSearchConnectionError("N/A", "connection refused", None)] * 20)
    client.indices = Indices()  # type: ignore[attr-defined]
    use(monkeypatch, client, s3)
    monkeypatch.setenv("LOG_SHIPPER_INSTALL_TEMPLATE", "true")
    monkeypatch.setenv("LOG_SHIPPER_MAX_ATTEMPTS", "1")

    summary = handler.handler(fixture("cloudwatch_logs_event.json"), Context())

    assert sum(summary["dead_lettered"].values()) == 2
    assert len(summary["dead_letter_keys"]) == 1
    assert handler.WARM.templates == {}  # tried again on the next invocation


class RefusedTemplates:
    """The index-template API of a cluster that refuses this role (HTTP 403)."""

    def get_index_template(self, **_: Any) -> Any:
        from opensearchpy.exceptions import AuthorizationException

        raise AuthorizationException(403, "security_exception", {"error": {"reason": "no"}})


def test_a_template_that_cannot_be_installed_never_fails_the_invocation(
    monkeypatch: pytest.MonkeyPatch, s3: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    client = FakeClient([])
    client.indices = RefusedTemplates()  # type: ignore[attr-defined]
    use(monkeypatch, client, s3)
    monkeypatch.setenv("LOG_SHIPPER_INSTALL_TEMPLATE", "true")

    summary = handler.handler(fixture("cloudwatch_logs_event.json"), Context())

    assert summary["indexed"] == 2 and summary["dead_lettered"] == {}  # shipped all the same
    out = capsys.readouterr()
    assert '"TemplateInstallFailed"' in out.out  # counted; the template is tried next cold start
    assert "index template not installed" in out.out + out.err
