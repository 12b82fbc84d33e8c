"""AWS log files in S3, read into fields, line by line, from fixtures written from AWS's
documentation of each format (tests/fixtures/log_shipper/s3/README.md says where)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from log_shipper.events import LogBatch, LogEvent
from log_shipper.file_transform import transform_file_batch
from log_shipper.formats import cloudfront, cloudtrail, elb, vpc_flow, waf
from log_shipper.formats.common import FormatError, tokens
from log_shipper.formats.detect import Detected, detect
from log_shipper.routing import Route
from log_shipper.transform import Document, TransformStats

S3 = Path(__file__).resolve().parents[2] / "fixtures" / "log_shipper" / "s3"


def lines(name: str) -> list[str]:
    return (S3 / name).read_text().splitlines()


def at(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat()


def test_alb_access_lines_give_every_documented_field() -> None:
    http, https, h2, ws, lambda_error, ipv6 = (elb.parse_access(line) for line in lines("alb.log"))
    assert at(http.timestamp_ms) == "2018-07-02T22:23:00.186000+00:00"
    fields = http.fields
    assert fields["source"] == {"ip": "192.168.131.39", "port": 2817}
    assert fields["destination"] == {"ip": "10.0.0.1", "port": 80}
    assert fields["http"] == {
        "request": {"method": "GET", "bytes": 34},
        "response": {"status_code": 200, "bytes": 366},
        "version": "1.1",
    }
    assert fields["url"] == {
        "original": "http://www.example.com:80/",
        "scheme": "http",
        "domain": "www.example.com",
        "port": 80,
        "path": "/",
    }
    assert fields["aws"]["elb"]["name"] == "app/my-loadbalancer/50dc6c495c0c9188"
    assert fields["aws"]["elb"]["target_processing_time"] == {"sec": 0.001}
    assert fields["aws"]["elb"]["target_port_list"] == ["10.0.0.1:80"]
    assert "tls" not in fields  # "-" is a value that is not there
    assert https.fields["tls"] == {
        "cipher": "ECDHE-RSA-AES128-GCM-SHA256",
        "version_protocol": "TLSv1.2",
    }
    assert https.fields["aws"]["elb"]["actions_executed"] == "authenticate,forward"
    assert https.fields["aws"]["elb"]["conn_trace_id"] == "TID_1234abcd5678ef90"
    assert h2.fields["aws"]["elb"]["redirect_url"] == "https://example.com:80/"
    assert h2.fields["http"]["version"] == "2.0"
    assert ws.fields["http"]["response"]["status_code"] == 101
    assert "user_agent" not in ws.fields
    assert "destination" not in lambda_error.fields
    assert lambda_error.fields["aws"]["elb"]["error_reason"] == "LambdaInvalidResponse"
    assert lambda_error.fields["http"]["response"]["status_code"] == 502
    six = ipv6.fields
    assert six["source"] == {"ip": "2001:db8:85a3::8a2e:370:7334", "port": 51234}
    assert six["aws"]["elb"]["request_processing_time"] == {"sec": -1}  # not dispatched
    assert six["url"]["query"] == "source=web&utm=x" and six["url"]["path"] == "/v1/leads"
    assert six["aws"]["elb"]["classification"] == "Ambiguous"
    assert six["aws"]["elb"]["transformed_uri"] == "/v2/leads"
    assert six["aws"]["elb"]["unparsed_tail"] == "some-field-added-later"


def test_nlb_clb_and_connection_logs() -> None:
    first, alpn = (elb.parse_access(line) for line in lines("nlb.log"))
    assert at(first.timestamp_ms) == "2018-12-20T02:59:40+00:00"
    assert first.fields["source"] == {"ip": "72.21.218.154", "port": 51341, "bytes": 98}
    assert first.fields["aws"]["elb"]["connection_time"] == {"ms": 5}
    assert alpn.fields["aws"]["elb"]["alpn_client_preference_list"] == '"h2","http/1.1"'
    http, https, tcp = (elb.parse_access(line) for line in lines("clb.log"))
    assert http.fields["aws"]["elb"]["type"] == "classic"
    assert https.fields["tls"]["version_protocol"] == "TLSv1.2"
    assert "url" not in tcp.fields and "http" in tcp.fields  # "- - - ": no request line
    verified, failed = (elb.parse_connection(line) for line in lines("alb_connection.log"))
    assert verified.fields["tls"]["client"]["subject"].startswith("CN=amazon.com,OU=Cloud")
    assert verified.fields["event"]["outcome"] == "success"
    assert failed.fields["event"]["outcome"] == "failure"
    assert failed.fields["aws"]["elb"]["tls_verify_status"] == "Failed:UnmappedConnectionError"


def test_cloudfront_reads_its_fields_from_the_header_and_decodes_values() -> None:
    text = lines("cloudfront.log")
    names = cloudfront.fields_header(text[1])
    assert names is not None and len(names) == 33
    hit, error = (cloudfront.parse(line, names) for line in text[2:])
    assert at(hit.timestamp_ms) == "2019-12-04T21:02:31+00:00"
    assert hit.fields["user_agent"]["original"].startswith("Mozilla/5.0 (Windows NT 10.0;")
    assert hit.fields["source"] == {"ip": "192.0.2.100", "port": 11040}
    assert hit.fields["aws"]["cloudfront"]["x_edge_location"] == "LAX1"
    assert hit.fields["event"]["duration"] == 1_000_000
    assert error.fields["url"]["path"] == "/path with spaces.html"  # encoded twice
    assert error.fields["url"]["query"] == "q=a b&x=1"
    assert error.fields["source"]["ip"] == "2001:db8::1"
    assert error.fields["http"]["response"]["status_code"] == 404


def test_vpc_flow_logs_default_and_custom_formats() -> None:
    text = lines("vpcflow.log")
    names = vpc_flow.fields_header(text[0])
    accept, reject, nodata, skipdata, ipv6 = (
        vpc_flow.parse(line, names or []) for line in text[1:]
    )
    assert accept.fields["source"] == {"ip": "172.31.16.139", "port": 20641}
    assert accept.fields["network"] == {
        "iana_number": 6,
        "packets": 20,
        "bytes": 4249,
        "transport": "tcp",
    }
    assert accept.fields["event"]["action"] == "accept"
    assert reject.fields["event"]["action"] == "reject"
    assert reject.fields["event"]["outcome"] == "failure"
    assert at(accept.timestamp_ms) == "2014-12-14T04:06:50+00:00"
    assert (
        "source" not in nodata.fields and nodata.fields["aws"]["vpcflow"]["log_status"] == "NODATA"
    )
    assert skipdata.fields["aws"]["vpcflow"]["log_status"] == "SKIPDATA"
    assert ipv6.fields["destination"]["ip"] == "2001:db8:1234:a102:3304:8879:34cf:4071"
    custom = lines("vpcflow_custom.log")
    header = vpc_flow.fields_header(custom[0]) or []
    ingress, egress = (vpc_flow.parse(line, header) for line in custom[1:])
    assert ingress.fields["aws"]["vpcflow"]["vpc_id"] == "vpc-1a2b3c4d"
    assert ingress.fields["aws"]["vpcflow"]["tcp_flags"] == 2
    assert ingress.fields["network"]["direction"] == "ingress"
    assert egress.fields["aws"]["vpcflow"]["traffic_path"] == 1
    assert vpc_flow.fields_header(custom[1]) is None


def test_cloudtrail_records_keep_their_own_ids_and_free_form_parts_as_text() -> None:
    signin, service, denied = (
        cloudtrail.parse(r) for r in cloudtrail.records((S3 / "cloudtrail.json").read_bytes())
    )
    assert signin.event_id == "d38ce1b3-4575-4cb8-a632-611b8243bfc3"
    assert signin.fields["user"]["name"] == "Alice"
    assert signin.fields["event"]["action"] == "ConsoleLogin"
    assert signin.fields["source"] == {"ip": "192.0.2.110"}
    assert (
        json.loads(signin.fields["aws"]["cloudtrail"]["additional_event_data"])["MFAUsed"] == "Yes"
    )
    assert service.fields["source"] == {"address": "ec2.amazonaws.com"}  # not an IP
    assert isinstance(service.fields["aws"]["cloudtrail"]["request_parameters"], str)
    assert denied.event_id is None
    assert denied.fields["user"]["name"] == "deploy"  # the role behind the session
    assert denied.fields["event"]["outcome"] == "failure"
    assert denied.fields["error"] == {"code": "AccessDenied", "message": "Access Denied"}
    with pytest.raises(FormatError, match="Records"):
        cloudtrail.records(b'{"digestStartTime": "2023-07-19T21:00:00Z"}')


def test_waf_lines() -> None:
    blocked, allowed = (waf.parse(line) for line in lines("waf.log"))
    assert blocked.timestamp_ms == 1576280412771
    assert blocked.fields["event"]["action"] == "block"
    assert blocked.fields["source"] == {"ip": "1.1.1.1", "geo": {"country_iso_code": "AU"}}
    assert blocked.fields["user_agent"]["original"] == "curl/7.61.1"
    assert blocked.fields["rule"]["id"] == "STMTest_SQLi_XSS"
    assert (
        json.loads(blocked.fields["aws"]["waf"]["terminating_rule_match_details"])[0][
            "conditionType"
        ]
        == "SQL_INJECTION"
    )
    assert allowed.fields["aws"]["waf"]["labels"] == [
        "awswaf:managed:aws:core-rule-set:NoUserAgent_Header"
    ]
    assert allowed.fields["url"]["domain"] == "api.example.com"


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (
            "logs/AWSLogs/123456789012/elasticloadbalancing/us-east-2/2016/05/01/123456789012_elasticloadbalancing_us-east-2_app.my-loadbalancer.1234567890abcdef_20140215T2340Z_172.160.001.192_20sg8hgm.log.gz",
            Detected("elb", "123456789012", "us-east-2"),
        ),
        (
            "AWSLogs/123456789012/elasticloadbalancing/us-east-2/2023/10/04/conn_log_123456789012_elasticloadbalancing_us-east-2_app.my-lb.1234_20231004T1715Z_10.0.0.1_abc.log.gz",
            Detected("elb_connection", "123456789012", "us-east-2"),
        ),
        (
            "AWSLogs/123456789012/vpcflowlogs/eu-west-1/2024/01/01/123456789012_vpcflowlogs_eu-west-1_fl-1234abcd_20240101T0000Z_hash.log.gz",
            Detected("vpcflow", "123456789012", "eu-west-1"),
        ),
        (
            "trail/AWSLogs/o-abc123/123456789012/CloudTrail/us-east-1/2023/07/19/123456789012_CloudTrail_us-east-1_20230719T2125Z_x.json.gz",
            Detected("cloudtrail", "123456789012", "us-east-1"),
        ),
        (
            "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2023/07/19/digest.json.gz",
            Detected(None, "123456789012", "us-east-1"),
        ),
        (
            "AWSLogs/123456789012/WAFLogs/us-east-1/dev-web-acl/2023/05/06/06/45/123456789012_waflogs_us-east-1_dev-web-acl_20230506T0645Z_x.log.gz",
            Detected("waf", "123456789012", "us-east-1"),
        ),
        ("cf/E2ABCDEFGHIJKL.2019-12-04-21.d111abcd.gz", Detected("cloudfront")),
        ("uploads/report.csv", Detected(None)),
    ],
)
def test_the_kind_of_log_is_read_from_the_key(key: str, expected: Detected) -> None:
    assert detect(key) == expected


def test_quoted_fields_keep_their_spaces_and_escapes() -> None:
    assert tokens('a "b c" "-" "" "x\\"y" d') == ["a", "b c", "-", "", 'x"y', "d"]


def file_batch(source: str, texts: list[str], header: tuple[str, ...] = ()) -> LogBatch:
    events = [LogEvent(str(n), 0, text) for n, text in enumerate(texts, start=1)]
    return LogBatch(
        owner="123456789012",
        log_group="s3://alb-logs/AWSLogs/123456789012/elasticloadbalancing/x.log.gz",
        log_stream="v1",
        events=events,
        source=source,
        header=header,
    )


def file_docs(batch: LogBatch, route: Route | None = None) -> tuple[list[Document], TransformStats]:
    stats = TransformStats()
    pending = transform_file_batch(
        batch,
        route or Route(retention_days=None),
        region="us-east-2",
        ingested=datetime(2026, 12, 4, tzinfo=UTC),
        stats=stats,
    )
    return [Document.of_pending(p) for p in pending], stats


def test_file_lines_become_documents_with_ids_from_the_object_and_line() -> None:
    batch = file_batch("elb", [*lines("alb.log")[:2], "not an ALB line"])
    (first, second, unparsed), _ = file_docs(batch)
    source: dict[str, Any] = first.source
    assert source["@timestamp"] == "2018-07-02T22:23:00.186Z"
    assert source["aws"]["s3"] == {
        "bucket": {"name": "alb-logs"},
        "object": {"key": batch.log_group.split("/", 3)[3]},
    }
    assert source["log"] == {"file": {"path": batch.log_group}, "offset": 1}
    assert source["message"] == lines("alb.log")[0]
    assert source["event"]["dataset"] == "aws.elb" and "ingested" in source["event"]
    assert first.index == "opsbundle-logs-default-2018.07.02"
    assert first.id.endswith("-1") and second.id.endswith("-2")
    assert first.id.rsplit("-", 1)[0] == second.id.rsplit("-", 1)[0]  # one object, one prefix
    again, _ = file_docs(batch)
    assert [d.id for d in again] == [first.id, second.id, unparsed.id]  # the same every time
    assert (
        unparsed.source["tags"] == ["unparsed"] and unparsed.source["message"] == "not an ALB line"
    )


def test_cloudtrail_documents_take_the_events_own_id() -> None:
    records = cloudtrail.records((S3 / "cloudtrail.json").read_bytes())
    texts = [json.dumps(r) for r in records]
    (signin, service, denied), _ = file_docs(file_batch("cloudtrail", texts))
    assert signin.id == "cloudtrail-d38ce1b3-4575-4cb8-a632-611b8243bfc3"
    assert service.id == "cloudtrail-b0f5c7d2-8e1a-4c3f-9b2d-6a7e8f9a0b1c"
    assert denied.id.endswith("-3")  # no eventID: the file and position
    assert "offset" not in signin.source["log"]


def test_file_lines_older_than_retention_are_expired() -> None:
    batch = file_batch("elb", lines("alb.log")[:1])
    documents, stats = file_docs(batch, Route(retention_days=30))
    assert documents == [] and stats.expired == 1


# A custom format of the Amazon VPC User Guide's fields, the AWS service names included.
SERVICE_FORMAT = (
    "version srcaddr dstaddr srcport dstport protocol start end packets bytes action "
    "pkt-srcaddr pkt-dstaddr pkt-src-aws-service pkt-dst-aws-service traffic-path log-status"
)


def test_vpc_flow_aws_service_names_stay_text() -> None:
    record = vpc_flow.parse(
        "5 10.0.1.5 52.216.100.1 34210 443 6 1566848875 1566848933 12 4800 ACCEPT "
        "10.0.1.5 52.216.100.1 S3 AMAZON 2 OK",
        SERVICE_FORMAT.split(),
    )
    flow = record.fields["aws"]["vpcflow"]
    assert (flow["pkt_src_aws_service"], flow["pkt_dst_aws_service"]) == ("S3", "AMAZON")
    assert flow["traffic_path"] == 2 and record.timestamp_ms == 1566848875000


def test_a_custom_vpc_flow_format_without_start_is_read_at_its_end_or_when_shipped() -> None:
    no_start = ["version", "srcaddr", "dstaddr", "end", "action", "log-status"]
    record = vpc_flow.parse("5 10.0.1.5 10.0.2.9 1566848933 REJECT OK", no_start)
    assert record.timestamp_ms == 1566848933000
    assert record.fields["event"]["end"] == 1566848933000 and "start" not in record.fields["event"]

    untimed = ("version", "srcaddr", "dstaddr", "action", "log-status")
    (document,), _ = file_docs(file_batch("vpcflow", ["5 10.0.1.5 10.0.2.9 ACCEPT OK"], untimed))
    assert document.source["@timestamp"] == "2026-12-04T00:00:00.000Z"  # when it was shipped
    assert document.source["source"]["ip"] == "10.0.1.5" and "tags" not in document.source
