"""CloudFront standard logs (access logs, the legacy S3 delivery), written from the CloudFront
Developer Guide ("Standard logging reference"): W3C extended format, `#Version` and
`#Fields:` header lines naming the tab-separated fields, "-" for a value that is not there,
and URL-encoded values (the URI, the query, the user agent, the referer, the cookie).

The fields are read by the names in the file's own `#Fields:` line, so a file with more or
fewer fields (CloudFront adds them at the end) reads right.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from log_shipper.formats.common import FormatError, Parsed, ip, iso_ms, number, present, put, snake

# Fields CloudFront URL-encodes (a space is %20; some values were encoded twice: %2520).
ENCODED = frozenset({"cs-uri-stem", "cs-uri-query", "cs(User-Agent)", "cs(Referer)", "cs(Cookie)"})
NUMBERS = frozenset({
    "sc-bytes", "cs-bytes", "sc-status", "c-port", "time-taken", "time-to-first-byte",
    "sc-content-len", "sc-range-start", "sc-range-end",
})  # fmt: skip  # names packed, not one a line
ECS = {
    "c-ip": "source.ip",
    "c-port": "source.port",
    "cs-method": "http.request.method",
    "cs(Host)": "url.domain",
    "cs-uri-stem": "url.path",
    "cs-uri-query": "url.query",
    "sc-status": "http.response.status_code",
    "cs(Referer)": "http.request.referrer",
    "cs(User-Agent)": "user_agent.original",
    "sc-bytes": "http.response.bytes",
    "cs-bytes": "http.request.bytes",
    "cs-protocol": "url.scheme",
    "cs-protocol-version": "http.version",
    "ssl-protocol": "tls.version_protocol",
    "ssl-cipher": "tls.cipher",
    "x-edge-request-id": "http.request.id",
    "sc-content-type": "http.response.mime_type",
}


def fields_header(line: str) -> list[str] | None:
    """The field names of a `#Fields: date time ...` line; None for any other line."""
    if line.startswith("#Fields:"):
        return line[len("#Fields:") :].split()
    return None


def parse(line: str, names: list[str]) -> Parsed:
    values = line.rstrip("\r\n").split("\t")
    if len(values) < 2 or not names:
        raise FormatError("not a tab-separated CloudFront log line (or no #Fields header)")
    named = dict(zip(names, values, strict=False))
    date, time = named.get("date", ""), named.get("time", "")
    fields: dict[str, Any] = {}
    put(fields, "event.dataset", "aws.cloudfront")
    for name, raw in named.items():
        if name in ("date", "time"):
            continue
        value = present(raw)
        if value is None:
            continue
        if name in ENCODED:
            value = _decoded(value)
        typed: Any = number(value) if name in NUMBERS else value
        if name == "c-ip":
            typed = ip(value)
        elif name == "time-taken":
            put(
                fields,
                "event.duration",
                int(float(value) * 1e9) if number(value) is not None else None,
            )
        target = ECS.get(name)
        put(fields, target or f"aws.cloudfront.{snake(name)}", typed)
    path, query = fields.get("url", {}).get("path"), fields.get("url", {}).get("query")
    if path:
        put(fields, "url.original", path + (f"?{query}" if query else ""))
    if len(values) > len(names):
        put(fields, "aws.cloudfront.unparsed_tail", "\t".join(values[len(names) :]))
    return Parsed(iso_ms(f"{date}T{time}Z"), fields)


def _decoded(value: str) -> str:
    once = unquote(value)
    return unquote(once) if "%25" in value else once  # CloudFront encodes some twice
