"""VPC Flow Logs delivered to S3 as text, written from the Amazon VPC User Guide ("Flow log
records", "Available fields"): space-separated fields, the first line naming them (the
default v2 format's `version account-id interface-id srcaddr dstaddr srcport dstport protocol
packets bytes start end action log-status`, or a custom format's), "-" for a value that is not
there; NODATA (no traffic in the window) and SKIPDATA (records skipped) records carry no
addresses. The event's time is `start`, else `end`; a custom format with neither is read at
the time it is shipped. Parquet delivery is not read here.
"""

from __future__ import annotations

from typing import Any

from log_shipper.formats.common import FormatError, Parsed, ip, number, present, put, snake

# IANA protocol numbers most flows carry, as network.transport names them.
TRANSPORTS = {"1": "icmp", "6": "tcp", "17": "udp", "58": "ipv6-icmp", "47": "gre", "50": "esp"}
# fmt: skip below: names packed, not one a line
NUMBERS = frozenset(
    {
        "version",
        "srcport",
        "dstport",
        "protocol",
        "packets",
        "bytes",
        "start",
        "end",
        "tcp-flags",
        "traffic-path",
    }
)
ECS = {
    "srcaddr": "source.ip",
    "dstaddr": "destination.ip",
    "srcport": "source.port",
    "dstport": "destination.port",
    "protocol": "network.iana_number",
    "packets": "network.packets",
    "bytes": "network.bytes",
    "account-id": "cloud.account.id",
    "region": "cloud.region",
    "az-id": "cloud.availability_zone",
    "instance-id": "cloud.instance.id",
    "flow-direction": "network.direction",
}


def fields_header(line: str) -> list[str] | None:
    """The names of a header line (`version account-id ...`); None for a record."""
    names = line.split()
    if names and not names[0][:1].isdigit() and all(n.replace("-", "").isalnum() for n in names):
        return names
    return None


def parse(line: str, names: list[str]) -> Parsed:
    values = line.split()
    if not names or len(values) < len(names):
        raise FormatError(f"{len(values)} fields, the header names {len(names)}")
    named = dict(zip(names, values, strict=False))
    fields: dict[str, Any] = {}
    put(fields, "event.dataset", "aws.vpcflow")
    for name, raw in named.items():
        value = present(raw)
        if value is None:
            continue
        target = ECS.get(name)
        typed: Any = number(value) if name in NUMBERS else value
        if name in ("srcaddr", "dstaddr", "pkt-srcaddr", "pkt-dstaddr"):
            typed = ip(value)
        put(fields, target or f"aws.vpcflow.{snake(name)}", typed)
    protocol = present(named.get("protocol"))
    put(fields, "network.transport", TRANSPORTS.get(protocol or ""))
    action = present(named.get("action"))
    if action:
        put(fields, "event.action", action.lower())
        put(fields, "event.outcome", "success" if action == "ACCEPT" else "failure")
    put(fields, "aws.vpcflow.log_status", present(named.get("log-status")))
    start, end = number(named.get("start")), number(named.get("end"))
    start_ms = start * 1000 if isinstance(start, int) else None
    end_ms = end * 1000 if isinstance(end, int) else None
    put(fields, "event.start", start_ms)
    put(fields, "event.end", end_ms)
    if start_ms is not None and end_ms is not None:
        put(fields, "event.duration", (end_ms - start_ms) * 1_000_000)
    return Parsed(start_ms if start_ms is not None else end_ms, fields)
