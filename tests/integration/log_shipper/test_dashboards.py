"""The Dashboards assets' saved searches and visualizations, run against the real node on
documents the shipper wrote: their Lucene queries as query_string, their aggregations as
the terms/max/date_histogram aggregations Dashboards would send."""

from __future__ import annotations

import json
from typing import Any

import pytest
from opensearchpy import OpenSearch

from log_shipper import assemble
from log_shipper.cli import ASSETS
from log_shipper.events import LogBatch, LogEvent
from log_shipper.handler import handler
from tests.integration.log_shipper.helpers import FIXTURES, LambdaContext, cloudwatch_event, payload

REQ = "00000000-0000-4000-8000-{:012d}"


def report(n: int, duration: float, *, cold: bool) -> str:
    init = "\tInit Duration: 250.10 ms" if cold else ""
    return (
        f"REPORT RequestId: {REQ.format(n)}\tDuration: {duration} ms\tBilled Duration: "
        f"{int(duration) + 1} ms\tMemory Size: 512 MB\tMax Memory Used: {60 + n} MB{init}\t\n"
    )


@pytest.fixture
def shipped(monkeypatch: pytest.MonkeyPatch, shipping: OpenSearch) -> OpenSearch:
    opensearch = shipping
    monkeypatch.setenv("LOG_SHIPPER_RETENTION_DAYS", "0")
    api = [
        report(1, 12.5, cold=True),
        report(2, 3100.0, cold=False),
        report(3, 40.0, cold=False),
        '{"level": "ERROR", "message": "CRM call failed"}',
        "[ERROR]\t2026-11-26T15:00:00.195Z\t" + REQ.format(3) + "\tboom\n",
        "2026-11-26T15:00:01.000Z " + REQ.format(4) + " Task timed out after 30.03 seconds\n",
        "[INFO]\t2026-11-26T15:00:00.195Z\t" + REQ.format(3) + "\tall good\n",
        # JSON-format records: an init longer than any invocation, and a runtimeDone whose
        # durationMs is longer than its own REPORT's (neither is an invocation's duration)
        json.dumps({"time": "2026-11-26T15:00:02.000Z", "type": "platform.initReport", "record": {
            "initializationType": "on-demand", "phase": "init", "status": "success",
            "metrics": {"durationMs": 9000.5}}}),
        json.dumps({"time": "2026-11-26T15:00:05.000Z", "type": "platform.runtimeDone", "record": {
            "requestId": REQ.format(6), "status": "timeout", "metrics": {"durationMs": 5000.0}}}),
        report(6, 3000.0, cold=False).replace("\t\n", "\tStatus: timeout\n"),
        report(7, 55.5, cold=False).replace(
            "\t\n", "\tRestore Duration: 400.25 ms\tBilled Restore Duration: 180 ms\t\n"
        ),  # SnapStart: a cold start by its Restore Duration
    ]  # fmt: skip  # laid out as a table
    billing = [report(5, 800.0, cold=True), '{"level": "INFO", "message": "ok"}']
    handler(cloudwatch_event(payload(api, log_group="/aws/lambda/api")), LambdaContext())
    handler(
        cloudwatch_event(payload(billing, log_group="/aws/lambda/billing", first_id=100)),
        LambdaContext(),
    )
    opensearch.indices.refresh(index="opsbundle-logs-*")
    return opensearch


def assets() -> dict[str, dict[str, Any]]:
    return {o["id"]: o for o in map(json.loads, ASSETS.read_text().splitlines())}


def query_of(saved: dict[str, Any]) -> dict[str, Any]:
    source = json.loads(saved["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])
    assert source["query"]["language"] == "lucene"
    return {"query_string": {"query": source["query"]["query"]}}


def aggs_of(vis: dict[str, Any]) -> dict[str, Any]:
    state = json.loads(vis["attributes"]["visState"])
    metrics = {a["id"]: a for a in state["aggs"] if a["schema"] == "metric"}
    buckets = [a for a in state["aggs"] if a["schema"] != "metric"]
    inner = {
        i: {m["type"]: {"field": m["params"]["field"]}}
        for i, m in metrics.items()
        if m["type"] != "count"
    }
    for bucket in reversed(buckets):
        params = bucket["params"]
        if bucket["type"] == "terms":
            order = (
                {"_count": "desc"}
                if params["orderBy"] not in inner
                else {params["orderBy"]: "desc"}
            )
            body: dict[str, Any] = {
                "terms": {"field": params["field"], "size": params["size"], "order": order}
            }
        else:
            body = {
                "date_histogram": {
                    "field": params["field"],
                    "fixed_interval": "1m",
                    "min_doc_count": params["min_doc_count"],
                }
            }
        body["aggs"] = inner
        inner = {bucket["id"]: body}
    return inner


def vis_query(vis: dict[str, Any], search: dict[str, Any] | None) -> dict[str, Any]:
    """The query a visualization runs: its own, and its saved search's when it is linked."""
    own = json.loads(vis["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])
    queries = [query_of(search)] if search is not None else []
    if own["query"]["query"]:
        queries.append({"query_string": {"query": own["query"]["query"]}})
    return {"bool": {"must": queries}}


def hits(client: OpenSearch, saved: dict[str, Any], **extra: Any) -> list[dict[str, Any]]:
    answer = client.search(
        index="opsbundle-logs-*", body={"query": query_of(saved), "size": 100, **extra}
    )
    return [h["_source"] for h in answer["hits"]["hits"]]


def test_the_saved_searches_find_what_their_titles_promise(shipped: OpenSearch) -> None:
    saved = assets()
    assert saved["opsbundle-logs"]["attributes"]["title"] == "opsbundle-logs-*"

    errors = hits(shipped, saved["opsbundle-lambda-errors"])
    assert sorted(e["message"].split("\t")[-1].strip()[-30:] for e in errors) == sorted(
        [
            '{"level": "ERROR", "message": "CRM call failed"}'[-30:],
            "boom",
            "Task timed out after 30.03 seconds"[-30:],
        ]
    )
    cold = hits(shipped, saved["opsbundle-cold-starts"])
    assert sorted(c["lambda"]["request_id"][-1] for c in cold) == ["1", "5", "7"]
    sort = [{k: v} for k, v in saved["opsbundle-slowest-invocations"]["attributes"]["sort"]]
    slow = hits(shipped, saved["opsbundle-slowest-invocations"], sort=sort)
    assert [s["lambda"]["duration_ms"] for s in slow] == [3100.0, 3000.0, 800.0, 55.5, 40.0, 12.5]
    timeouts = hits(shipped, saved["opsbundle-lambda-timeouts"])
    assert sorted((t["lambda"]["request_id"][-1], t["lambda"].get("type")) for t in timeouts) == [
        ("4", None),
        ("6", "END"),
        ("6", "REPORT"),
    ]  # the runtime's line, platform.runtimeDone and the REPORT: two invocations
    # Only REPORTs carry an invocation's duration: the init's and runtimeDone's are not one
    timed = shipped.search(
        index="opsbundle-logs-*",
        body={"query": {"exists": {"field": "lambda.duration_ms"}}, "size": 50},
    )
    assert {h["_source"]["lambda"]["type"] for h in timed["hits"]["hits"]} == {"REPORT"}


def test_the_visualizations_aggregate_on_mapped_fields(shipped: OpenSearch) -> None:
    saved = assets()
    for vis_id, search_id in (
        ("opsbundle-slowest-invocations-table", "opsbundle-slowest-invocations"),
        ("opsbundle-errors-by-log-group", "opsbundle-lambda-errors"),
        ("opsbundle-cold-starts-over-time", "opsbundle-cold-starts"),
    ):
        vis = saved[vis_id]
        assert vis["references"] == [{"id": search_id, "name": "search_0", "type": "search"}]
        answer = shipped.search(
            index="opsbundle-logs-*",
            body={"size": 0, "query": vis_query(vis, saved[search_id]), "aggs": aggs_of(vis)},
        )
        aggregations = answer["aggregations"]
        if vis_id == "opsbundle-slowest-invocations-table":
            rows = [
                (b["key"][-1], b["1"]["value"], b["3"]["value"])
                for b in aggregations["2"]["buckets"]
            ]
            assert rows[:3] == [("2", 3100.0, 62.0), ("6", 3000.0, 66.0), ("5", 800.0, 65.0)]
            # Unlinked from its saved search, the table still ranks invocations only
            alone = shipped.search(
                index="opsbundle-logs-*",
                body={"size": 0, "query": vis_query(vis, None), "aggs": aggs_of(vis)},
            )
            assert [(b["key"][-1], b["1"]["value"]) for b in alone["aggregations"]["2"]["buckets"]][
                :2
            ] == [("2", 3100.0), ("6", 3000.0)]
        elif vis_id == "opsbundle-errors-by-log-group":
            assert [(b["key"], b["doc_count"]) for b in aggregations["2"]["buckets"]] == [
                ("/aws/lambda/api", 3)
            ]
        else:
            counts = {
                b["key"]: b["doc_count"]
                for d in aggregations["2"]["buckets"]
                for b in d["3"]["buckets"]
            }
            assert counts == {"/aws/lambda/api": 2, "/aws/lambda/billing": 1}


S3_FIXTURES = FIXTURES / "s3"


def file_batch(source: str, name: str, url: str) -> LogBatch:
    """A chunk of a log file from S3, as the S3 source makes it (header read off the file)."""
    from log_shipper.formats import cloudfront, vpc_flow

    text = (S3_FIXTURES / name).read_text()
    header: tuple[str, ...] = ()
    if source == "cloudtrail":
        from log_shipper.formats.cloudtrail import records

        texts = [json.dumps(r) for r in records(text.encode())]
    else:
        texts = [line for line in text.splitlines() if line and not line.startswith("#")]
        reader = {"cloudfront": cloudfront.fields_header, "vpcflow": vpc_flow.fields_header}
        if source in reader:
            header = tuple(next(n for line in text.splitlines() if (n := reader[source](line))))
            texts = texts[1:] if source == "vpcflow" else texts
    events = [LogEvent(str(n), 0, t) for n, t in enumerate(texts, start=1)]
    return LogBatch(
        owner="123456789012",
        log_group=url,
        log_stream="v1",
        events=events,
        source=source,
        header=header,
    )


def test_the_s3_sources_views_find_and_count_what_their_titles_promise(
    monkeypatch: pytest.MonkeyPatch, shipping: OpenSearch
) -> None:
    from log_shipper.config import ShipperSettings
    from log_shipper.events import Invocation, Unit
    from opsbundle.metrics import RunMetrics

    opensearch = shipping
    monkeypatch.setenv("LOG_SHIPPER_RETENTION_DAYS", "0")
    shipper = assemble.build_shipper(
        ShipperSettings.load(), metrics=RunMetrics(service="t"), warm=assemble.WarmClients()
    )
    batches = [
        file_batch("elb", "alb.log", "s3://logs/alb.log.gz"),
        file_batch("cloudfront", "cloudfront.log", "s3://logs/cf.gz"),
        file_batch("vpcflow", "vpcflow.log", "s3://logs/flows.log.gz"),
        file_batch("cloudtrail", "cloudtrail.json", "s3://logs/trail.json.gz"),
        file_batch("waf", "waf.log", "s3://logs/waf.log.gz"),
    ]
    outcome = shipper.ship(Invocation("s3", [Unit(None, batch=b) for b in batches]), request_id="t")
    assert outcome.indexed == 18 and not outcome.dead_lettered
    opensearch.indices.refresh(index="opsbundle-logs-*")
    saved = assets()

    def table(vis_id: str) -> list[tuple[Any, ...]]:
        vis = saved[vis_id]
        search = saved[vis["references"][0]["id"]]
        answer = opensearch.search(
            index="opsbundle-logs-*",
            body={"size": 0, "query": query_of(search), "aggs": aggs_of(vis)},
        )
        rows: list[tuple[Any, ...]] = []
        for bucket in answer["aggregations"]["2"]["buckets"]:
            inner = bucket.get("3", {}).get("buckets")
            if inner is None:
                rows.append((bucket["key"], bucket["doc_count"]))
            else:
                rows += [(bucket["key"], b["key"], b["doc_count"]) for b in inner]
        return rows

    five = hits(opensearch, saved["opsbundle-alb-5xx"])
    assert sorted(h["http"]["response"]["status_code"] for h in five) == [502, 503]
    assert table("opsbundle-alb-5xx-by-target") == [("10.0.0.12", 1)]
    top = dict(table("opsbundle-top-client-ips"))
    assert top["192.168.131.39"] == 3 and top["1.1.1.1"] == 1 and top["192.0.2.100"] == 1
    assert top["2001:db8:85a3::8a2e:370:7334"] == 1 and sum(top.values()) == 6 + 2 + 2
    assert table("opsbundle-rejected-flows-by-source") == [("172.31.9.69", 3389, 1)]
    assert table("opsbundle-cloudtrail-by-user-and-event") == [
        ("Alice", "ConsoleLogin", 1),
        ("deploy", "DeleteBucket", 1),
    ]
