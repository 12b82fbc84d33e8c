"""Lines of AWS log files in S3 → OpenSearch documents: pure, like transform.py for
CloudWatch events, and handing the bulk sender the same pending tuples.

A chunk of a file arrives as a LogBatch whose `source` names its format (formats/detect.py):
`log_group` is the object's `s3://bucket/key`, `log_stream` its version id (or ETag), `owner`
the account in its key, and each event a line (`id` its line number, from 1) or, for
CloudTrail, a record (`id` its position in the file). A document:
    @timestamp        the event's own time, from the line
    event.ingested    when the shipper read it; event.dataset: aws.elb, aws.cloudfront, ...
    message           the line as written (masked when the route redacts)
    source.*, destination.*, http.*, url.*, user_agent.*, tls.*, network.*, user.*, ...
                      ECS fields, where the Elastic Common Schema has one
    aws.<service>.*   the rest of the format's fields, under their documented names
    aws.s3.bucket.name, aws.s3.object.key, log.file.path, log.offset (the line number)
The `_id` is the object (bucket, key, version or ETag) and the line number, so re-reading a
file (a re-delivered notification, a retried batch, a replay, a resumed read) meets the same
ids; a CloudTrail record's is its own eventID, so one event in two files is indexed once. A
line the format does not read is indexed as text (`tags: unparsed`, `error.message` says why),
never dropped.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import orjson

from log_shipper.events import LogBatch, LogEvent
from log_shipper.formats import cloudfront, cloudtrail, elb, vpc_flow, waf
from log_shipper.formats.common import FormatError, Parsed
from log_shipper.layout import utc_day
from log_shipper.routing import IndexNamer, Route, first_kept_day
from log_shipper.transform import (
    Pending,
    TransformStats,
    _redacted,
    create_action,
    iso_millis,
    stream_key,
)

Parser = Callable[[str, tuple[str, ...]], Parsed]
PARSERS: dict[str, Parser] = {
    "elb": lambda line, header: elb.parse_access(line),
    "elb_connection": lambda line, header: elb.parse_connection(line),
    "cloudfront": lambda line, header: cloudfront.parse(line, list(header)),
    "vpcflow": lambda line, header: vpc_flow.parse(line, list(header)),
    "waf": lambda line, header: waf.parse(line),
    "cloudtrail": lambda line, header: cloudtrail.parse(_json(line)),
}
_SAFE_ID = re.compile(r"[A-Za-z0-9-]{1,128}")


def _json(text: str) -> Any:
    import json  # noqa: PLC0415 - only CloudTrail records come as JSON text

    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise FormatError("a CloudTrail record that is not JSON") from None


def split_s3_url(url: str) -> tuple[str, str]:
    bucket, _, key = url.removeprefix("s3://").partition("/")
    return bucket, key


def transform_file_batch(
    batch: LogBatch,
    route: Route,
    *,
    region: str,
    ingested: datetime,
    stats: TransformStats | None = None,
) -> Iterator[Pending]:
    """Documents for the lines (or records) of one chunk of a log file, in order."""
    stats = stats if stats is not None else TransformStats()
    parse = PARSERS[batch.source or ""]
    name = IndexNamer(route.index, log_group=batch.log_group, account=batch.owner).name
    first_kept = first_kept_day(route, utc_day(ingested))
    ingested_ms = int(ingested.timestamp() * 1000)
    bucket, key = split_s3_url(batch.log_group)
    prefix = stream_key(batch.owner, batch.log_group, batch.log_stream) + "-"
    cloud = {"provider": "aws", "account": {"id": batch.owner}, "region": batch.region or region}
    s3 = {"bucket": {"name": bucket}, "object": {"key": key}}
    file = {"path": batch.log_group}
    ingested_text = iso_millis(ingested_ms)
    source = batch.source
    for event in batch.events:
        message = event.message
        if route.filters and not route.wants(message):
            stats.filtered += 1
            continue
        masked = ""
        if route.redact:
            message, masked = _redacted(message, stats)
        try:
            parsed = parse(message, batch.header)
            timestamp, fields, own_id = parsed.timestamp_ms, parsed.fields, parsed.event_id
            if timestamp is None:
                timestamp = ingested_ms
        except FormatError as error:
            timestamp, own_id = ingested_ms, None
            fields = {"tags": ["unparsed"], "error": {"message": str(error)[:500]},
                      "event": {"dataset": f"aws.{source}"}}  # fmt: skip  # laid out as a table
        if first_kept is not None and timestamp // 86_400_000 < first_kept:
            stats.expired += 1
            continue
        # The parsed fields, and what every line of the file shares, side by side (the
        # formats never write cloud.provider, aws.s3 or log.file).
        document = {"@timestamp": iso_millis(timestamp), "message": message, **fields}
        document["event"] = {**fields.get("event", {}), "ingested": ingested_text}
        document["cloud"] = {**cloud, **fields["cloud"]} if "cloud" in fields else cloud
        document["aws"] = {**fields.get("aws", {}), "s3": s3}
        document["log"] = (
            {"file": file} if source == "cloudtrail" else {"file": file, "offset": int(event.id)}
        )
        if event.id in batch.cut:  # the rest of a line over 1 MiB was skipped (Filebeat's flag)
            document["log"]["flags"] = ["truncated"]
        document_id = _own_id(source, own_id) or prefix + event.id
        index = batch.index or name(timestamp)
        body = orjson.dumps(document).decode()
        yield (
            f"{create_action(index, document_id)}\n{body[:-1]}{masked}}}\n",
            LogEvent(event.id, timestamp, event.message),
            batch,
            False,
        )


def _own_id(source: str | None, own_id: str | None) -> str | None:
    """`cloudtrail-<eventID>`: one event is one document, whichever file brings it."""
    if source != "cloudtrail" or not own_id:
        return None
    if _SAFE_ID.fullmatch(own_id):
        return f"cloudtrail-{own_id}"
    return (
        "cloudtrail-"
        + hashlib.blake2b(own_id.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
    )
