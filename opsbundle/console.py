"""Links to the AWS console, built from values that may come from an event (pure).

A region is used in a host name only when it reads like one ("us-east-1"): a forged
"evil.example/login#" must not become the host of a link. Values that go into a path or a
fragment are percent-encoded by the callers (urllib.parse.quote).
"""

from __future__ import annotations

import re
from urllib.parse import quote

REGION = re.compile(r"[a-z]{2}(?:-[a-z]+)+-\d{1,2}")
HOSTS = {
    "aws": "console.aws.amazon.com",
    "aws-cn": "console.amazonaws.cn",
    "aws-us-gov": "console.amazonaws-us-gov.com",
}


def is_region(value: str) -> bool:
    return REGION.fullmatch(value) is not None


def console_url(region: str, fragment: str, partition: str = "aws") -> str:
    """https://<region>.<console host>/<fragment>; the region-less host when `region` is not
    one. `fragment` is the path, query and fragment, already encoded."""
    host = HOSTS.get(partition, HOSTS["aws"])
    base = f"https://{region}.{host}" if is_region(region) else f"https://{host}"
    return f"{base}/{fragment}"


def query_region(region: str) -> str:
    """The region for a `?region=` parameter (encoded, so it cannot end the query)."""
    return quote(region, safe="-")
