"""Which format an S3 object holds, from the key layout each AWS service writes:

    .../AWSLogs/<account>/elasticloadbalancing/<region>/yyyy/mm/dd/<account>_elasticloadbalancing_...log.gz
    .../AWSLogs/<account>/elasticloadbalancing/<region>/yyyy/mm/dd/conn_log_<account>_...log.gz
    .../AWSLogs/<account>/vpcflowlogs/<region>/yyyy/mm/dd/<account>_vpcflowlogs_...log.gz
    .../AWSLogs/[<org id>/]<account>/CloudTrail/<region>/yyyy/mm/dd/<account>_CloudTrail_...json.gz
    .../AWSLogs/<account>/WAFLogs/<region>/<web acl>/yyyy/mm/dd/HH/mm/<account>_waflogs_...log.gz
    .../<distribution id>.yyyy-mm-dd-HH.<unique>.gz                    (CloudFront)
A route's `format` says it where the layout does not (a copied or renamed object).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

FORMATS = ("elb", "elb_connection", "vpcflow", "cloudtrail", "waf", "cloudfront")
SERVICES = {"elasticloadbalancing": "elb", "vpcflowlogs": "vpcflow", "CloudTrail": "cloudtrail",
            "WAFLogs": "waf"}  # fmt: skip  # names packed, not one a line
SKIPPED = frozenset({"CloudTrail-Digest", "CloudTrail-Insight"})  # no log events in them
_CLOUDFRONT = re.compile(r"[A-Z0-9]{8,20}\.\d{4}-\d{2}-\d{2}-\d{2}\.[0-9a-z]+(\.gz)?")
_ACCOUNT = re.compile(r"\d{12}")


@dataclass(frozen=True)
class Detected:
    format: str | None  # None: not a log we read (a digest file, a folder marker, unknown)
    account: str | None = None
    region: str | None = None


def detect(key: str) -> Detected:
    parts = key.split("/")
    name = parts[-1]
    if "AWSLogs" in parts:
        at = parts.index("AWSLogs")
        rest = parts[at + 1 :]
        if rest and rest[0].startswith("o-"):  # an organization trail: o-xxxx/<account>/...
            rest = rest[1:]
        account = rest[0] if rest and _ACCOUNT.fullmatch(rest[0]) else None
        service = rest[1] if len(rest) > 1 else ""
        region = rest[2] if len(rest) > 2 else None
        if service in SKIPPED:
            return Detected(None, account, region)
        kind = SERVICES.get(service)
        if kind == "elb" and name.startswith("conn_log_"):
            kind = "elb_connection"
        return Detected(kind, account, region)
    if _CLOUDFRONT.fullmatch(name):
        return Detected("cloudfront")
    return Detected(None)
