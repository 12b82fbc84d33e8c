"""Links to the AWS console, built from values that may come from an event (pure): every deep
link the alerts carry, in every partition.

A region is used in a host name only when it reads like one ("us-east-1"): a forged
"evil.example/login#" must not become the host of a link. The partition (and so the
console's host) comes from an ARN when the caller has one, else from the region's name
(cn-… is aws-cn, us-gov-… is aws-us-gov). Values that go into a path, a query or a fragment
are percent-encoded here.
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


def partition_of(region: str) -> str:
    """The partition a region belongs to (aws for anything unknown)."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def console_url(region: str, fragment: str, partition: str | None = None) -> str:
    """https://<region>.<console host>/<fragment>; the region-less host when `region` is not
    one. `fragment` is the path, query and fragment, already encoded."""
    host = HOSTS.get(partition or partition_of(region), HOSTS["aws"])
    base = f"https://{region}.{host}" if is_region(region) else f"https://{host}"
    return f"{base}/{fragment}"


def query_region(region: str) -> str:
    """The region for a `?region=` parameter (encoded, so it cannot end the query)."""
    return quote(region, safe="-")


def _part(text: str) -> str:
    return quote(text, safe="")


def _home(service: str, region: str, fragment: str, partition: str | None) -> str:
    """A service console's page: <service>/home?region=<region><fragment>."""
    return console_url(region, f"{service}/home?region={query_region(region)}{fragment}", partition)


def alarm(region: str, name: str, partition: str | None = None) -> str:
    return _home("cloudwatch", region, f"#alarmsV2:alarm/{_part(name)}", partition)


def cloudtrail_event(region: str, event_id: str, partition: str | None = None) -> str:
    return _home("cloudtrail", region, f"#/events/{_part(event_id)}", partition)


def log_stream(region: str, group: str, stream: str, partition: str | None = None) -> str:
    def enc(text: str) -> str:  # the console's double-encoding of the log group and stream
        return quote(_part(text), safe="").replace("%", "$")

    fragment = f"#logsV2:log-groups/log-group/{enc(group)}/log-events/{enc(stream)}"
    return _home("cloudwatch", region, fragment, partition)


def target_group(region: str, arn: str, partition: str | None = None) -> str:
    return _home("ec2", region, f"#TargetGroup:targetGroupArn={arn}", partition)


def classic_load_balancer(region: str, name: str, partition: str | None = None) -> str:
    return _home("ec2", region, f"#LoadBalancers:search={_part(name)}", partition)


def instance(region: str, instance_id: str, partition: str | None = None) -> str:
    return _home("ec2", region, f"#InstanceDetails:instanceId={instance_id}", partition)


def pipeline_execution(
    region: str, pipeline: str, execution_id: str, partition: str | None = None
) -> str:
    path = f"codesuite/codepipeline/pipelines/{_part(pipeline)}/executions/{_part(execution_id)}"
    return console_url(region, f"{path}/timeline?region={query_region(region)}", partition)
