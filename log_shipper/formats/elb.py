"""Elastic Load Balancing logs in S3: Application Load Balancer access and connection logs,
Network Load Balancer (TLS listener) access logs, Classic Load Balancer access logs.

Written from the Elastic Load Balancing guides ("Access logs for your Application Load
Balancer", "Connection logs for your Application Load Balancer", "Access logs for your Network
Load Balancer", "Access logs for your Classic Load Balancer"): space-separated fields in a
documented order, some double-quoted, "-" for a value that is not there. New fields are
appended at the end over time ("ignore any fields at the end that you were not expecting"):
the known ones are named, anything after them is kept whole in `aws.elb.unparsed_tail`.
"""

from __future__ import annotations

from typing import Any

from log_shipper.formats.common import (
    ABSENT,
    FormatError,
    Parsed,
    host_port,
    ip,
    iso_ms,
    number,
    present,
    put,
    tokens,
)

# Application Load Balancer access log entry, in order (conn_trace_id since 2024; the request
# transform fields since the URL and host header rewrites of 2025).
ALB_FIELDS = (
    "type", "time", "elb", "client:port", "target:port", "request_processing_time",
    "target_processing_time", "response_processing_time", "elb_status_code",
    "target_status_code", "received_bytes", "sent_bytes", "request", "user_agent",
    "ssl_cipher", "ssl_protocol", "target_group_arn", "trace_id", "domain_name",
    "chosen_cert_arn", "matched_rule_priority", "request_creation_time", "actions_executed",
    "redirect_url", "error_reason", "target:port_list", "target_status_code_list",
    "classification", "classification_reason", "conn_trace_id", "transformed_host",
    "transformed_uri", "request_transform_status",
)  # fmt: skip  # names packed, not one a line
ALB_REQUIRED = 12  # through sent_bytes: what every ALB entry has had since the start
ALB_TYPES = frozenset({"http", "https", "h2", "grpcs", "ws", "wss"})

NLB_FIELDS = (
    "type", "version", "time", "elb", "listener", "client:port", "destination:port",
    "connection_time", "tls_handshake_time", "received_bytes", "sent_bytes",
    "incoming_tls_alert", "chosen_cert_arn", "chosen_cert_serial", "tls_cipher",
    "tls_protocol_version", "tls_named_group", "domain_name", "alpn_fe_protocol",
    "alpn_be_protocol", "alpn_client_preference_list", "tls_connection_creation_time",
)  # fmt: skip  # names packed, not one a line

CLB_FIELDS = (
    "time", "elb", "client:port", "backend:port", "request_processing_time",
    "backend_processing_time", "response_processing_time", "elb_status_code",
    "backend_status_code", "received_bytes", "sent_bytes", "request", "user_agent",
    "ssl_cipher", "ssl_protocol",
)  # fmt: skip  # names packed, not one a line

CONNECTION_FIELDS = (
    "time", "client_ip", "client_port", "listener_port", "tls_protocol", "tls_cipher",
    "tls_handshake_latency", "leaf_client_cert_subject", "leaf_client_cert_validity",
    "leaf_client_cert_serial_number", "tls_verify_status", "conn_trace_id",
)  # fmt: skip  # names packed, not one a line


def parse_access(line: str) -> Parsed:
    """An access log line of any of the three load balancers (the first field tells which)."""
    values = tokens(line, careful=line.startswith("tls "))
    if not values:
        raise FormatError("empty line")
    if values[0] in ALB_TYPES:
        return _alb(values)
    if values[0] == "tls":
        return _nlb(values)
    return _clb(values)


def _named(names: tuple[str, ...], values: list[str], required: int) -> dict[str, str]:
    if len(values) < required:
        raise FormatError(f"{len(values)} fields, fewer than the {required} documented")
    return dict(zip(names, values, strict=False))


def _tail(values: list[str], names: tuple[str, ...], fields: dict[str, Any]) -> None:
    if len(values) > len(names):
        put(fields, "aws.elb.unparsed_tail", " ".join(values[len(names) :]))


def _request(fields: dict[str, Any], request: str | None) -> None:
    """`GET https://www.example.com:443/path?q=1 HTTP/1.1` into http.* and url.*."""
    request = present(request)
    if request is None or request == "- - - ":
        return
    method, _, rest = request.partition(" ")
    url, _, version = rest.rpartition(" ")
    if not url:  # no HTTP version on the line
        url, version = rest, ""
    http = fields.setdefault("http", {})
    if method and method != ABSENT:
        http["request"] = {**http.get("request", {}), "method": method}
    if version[:5].upper() == "HTTP/":
        http["version"] = version[5:]
    found: dict[str, Any] = {"original": url} if url and url != ABSENT else {}
    scheme, _, after = url.partition("://")
    if after:
        authority, _, path = after.partition("/")
        host, _, port = authority.rpartition(":")
        path, _, query = ("/" + path).partition("?")
        port_number = number(port) if host else None
        found.update(
            _clean(
                scheme=scheme, domain=host or authority, port=port_number, path=path, query=query
            )
        )
    if found:
        fields["url"] = found


def _latency(fields: dict[str, Any], name: str, text: str | None) -> None:
    """Seconds as the log gives them; -1 (the load balancer could not dispatch) kept as -1."""
    put(fields, f"aws.elb.{name}.sec", number(text))


def _alb(values: list[str]) -> Parsed:
    """Built as one dict (not a field at a time: a 100 MB log has 200,000 lines)."""
    if len(values) < ALB_REQUIRED:
        raise FormatError(f"{len(values)} fields, fewer than the {ALB_REQUIRED} documented")
    (
        kind,
        time,
        name,
        client,
        target,
        request_time,
        target_time,
        response_time,
        status,
        target_status,
        received,
        sent,
        request,
        agent,
        cipher,
        protocol,
        group,
        trace,
        domain,
        cert,
        priority,
        created,
        actions,
        redirect,
        error,
        targets,
        statuses,
        classification,
        why,
        conn,
        host,
        uri,
        transform,
    ) = (values + [ABSENT] * len(ALB_FIELDS))[:33]
    fields: dict[str, Any] = {"event": {"dataset": "aws.elb"}, "network": {"protocol": kind}}
    _endpoints(fields, client, target)
    _set(
        fields,
        "http",
        response=_clean(status_code=number(status), bytes=number(sent)),
        request=_clean(bytes=number(received)),
    )
    _request(fields, request)
    _set(fields, "user_agent", original=present(agent))
    _set(fields, "tls", cipher=present(cipher), version_protocol=present(protocol))
    _set(fields, "trace", id=present(trace))
    elb = _clean(
        type=kind,
        name=name,
        target_group_arn=present(group),
        trace_id=present(trace),
        domain_name=present(domain),
        chosen_cert_arn=present(cert),
        actions_executed=present(actions),
        redirect_url=present(redirect),
        error_reason=present(error),
        classification=present(classification),
        classification_reason=present(why),
        conn_trace_id=present(conn),
        transformed_host=present(host),
        transformed_uri=present(uri),
        request_transform_status=present(transform),
        target_status_code=number(target_status),
        matched_rule_priority=number(priority),
        request_creation_time=present(created),
        request_processing_time=_seconds(request_time),
        target_processing_time=_seconds(target_time),
        response_processing_time=_seconds(response_time),
        target_port_list=_listed(targets),
        target_status_code_list=_listed(statuses),
    )
    if len(values) > len(ALB_FIELDS):
        elb["unparsed_tail"] = " ".join(values[len(ALB_FIELDS) :])
    fields["aws"] = {"elb": elb}
    return Parsed(iso_ms(time), fields)


def _endpoints(fields: dict[str, Any], client: str, target: str) -> None:
    """`client:port` and `target:port` (the target, backend or destination) as ECS."""
    client_ip, client_port = host_port(client)
    target_ip, target_port = host_port(target)
    _set(fields, "source", ip=client_ip, port=client_port)
    _set(fields, "destination", ip=target_ip, port=target_port)


def _clean(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None and v not in ("", {})}


def _set(fields: dict[str, Any], name: str, **values: Any) -> None:
    cleaned = _clean(**values)
    if cleaned:
        fields[name] = {**fields.get(name, {}), **cleaned}


def _seconds(text: str) -> dict[str, Any] | None:
    value = number(text)
    return None if value is None else {"sec": value}


def _listed(text: str) -> list[str] | None:
    listed = present(text)
    return listed.split() if listed else None


def _nlb(values: list[str]) -> Parsed:
    named = _named(NLB_FIELDS, values, 11)
    fields: dict[str, Any] = {}
    put(fields, "event.dataset", "aws.elb")
    put(fields, "aws.elb.type", "tls")
    put(fields, "aws.elb.name", named["elb"])
    put(fields, "aws.elb.listener", named["listener"])
    put(fields, "aws.elb.log_version", named["version"])
    put(fields, "network.transport", "tcp")
    _endpoints(fields, named["client:port"], named["destination:port"])
    put(fields, "aws.elb.connection_time.ms", number(named["connection_time"]))
    put(fields, "aws.elb.tls_handshake_time.ms", number(named["tls_handshake_time"]))
    put(fields, "source.bytes", number(named["received_bytes"]))
    put(fields, "destination.bytes", number(named["sent_bytes"]))
    put(fields, "tls.cipher", present(named.get("tls_cipher")))
    put(fields, "tls.version_protocol", present(named.get("tls_protocol_version")))
    put(fields, "tls.client.server_name", present(named.get("domain_name")))
    for name in (
        "incoming_tls_alert",
        "chosen_cert_arn",
        "chosen_cert_serial",
        "tls_named_group",
        "alpn_fe_protocol",
        "alpn_be_protocol",
        "alpn_client_preference_list",
        "tls_connection_creation_time",
    ):
        put(fields, f"aws.elb.{name}", present(named.get(name)))
    _tail(values, NLB_FIELDS, fields)
    return Parsed(iso_ms(_utc(named["time"])), fields)


def _clb(values: list[str]) -> Parsed:
    named = _named(CLB_FIELDS, values, 11)
    fields: dict[str, Any] = {}
    put(fields, "event.dataset", "aws.elb")
    put(fields, "aws.elb.type", "classic")
    put(fields, "aws.elb.name", named["elb"])
    _endpoints(fields, named["client:port"], named["backend:port"])
    for name in ("request_processing_time", "backend_processing_time", "response_processing_time"):
        _latency(fields, name, named.get(name))
    put(fields, "http.response.status_code", number(named.get("elb_status_code")))
    put(fields, "aws.elb.backend_status_code", number(named.get("backend_status_code")))
    put(fields, "http.request.bytes", number(named.get("received_bytes")))
    put(fields, "http.response.bytes", number(named.get("sent_bytes")))
    _request(fields, named.get("request"))
    put(fields, "user_agent.original", present(named.get("user_agent")))
    put(fields, "tls.cipher", present(named.get("ssl_cipher")))
    put(fields, "tls.version_protocol", present(named.get("ssl_protocol")))
    _tail(values, CLB_FIELDS, fields)
    return Parsed(iso_ms(named["time"]), fields)


def parse_connection(line: str) -> Parsed:
    """An Application Load Balancer connection log line (mutual TLS and TLS handshakes)."""
    values = tokens(line)
    named = _named(CONNECTION_FIELDS, values, 7)
    fields: dict[str, Any] = {}
    put(fields, "event.dataset", "aws.elb_connection")
    put(fields, "source.ip", ip(named["client_ip"]))
    put(fields, "source.port", number(named["client_port"]))
    put(fields, "destination.port", number(named["listener_port"]))
    put(fields, "tls.version_protocol", present(named["tls_protocol"]))
    put(fields, "tls.cipher", present(named["tls_cipher"]))
    put(fields, "aws.elb.tls_handshake_latency.sec", number(named["tls_handshake_latency"]))
    put(fields, "tls.client.subject", present(named.get("leaf_client_cert_subject")))
    put(fields, "tls.client.serial_number", present(named.get("leaf_client_cert_serial_number")))
    validity = present(named.get("leaf_client_cert_validity"))
    put(fields, "aws.elb.leaf_client_cert_validity", validity)
    status = present(named.get("tls_verify_status"))
    put(fields, "aws.elb.tls_verify_status", status)
    if status:
        put(fields, "event.outcome", "success" if status == "Success" else "failure")
    put(fields, "aws.elb.conn_trace_id", present(named.get("conn_trace_id")))
    _tail(values, CONNECTION_FIELDS, fields)
    return Parsed(iso_ms(named["time"]), fields)


def _utc(text: str) -> str:
    """The Network Load Balancer writes its time without a zone: it is UTC."""
    return text if text.endswith(("Z", "+00:00")) else text + "Z"
