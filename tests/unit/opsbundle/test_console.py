"""Console links: the partition's host, from the ARN when there is one, else from the region;
a value that is not a region never becomes a host; what goes into a link is encoded."""

from __future__ import annotations

import pytest

from opsbundle import console


@pytest.mark.parametrize(
    ("region", "host"),
    [
        ("us-east-1", "https://us-east-1.console.aws.amazon.com/"),
        ("cn-north-1", "https://cn-north-1.console.amazonaws.cn/"),
        ("us-gov-west-1", "https://us-gov-west-1.console.amazonaws-us-gov.com/"),
        ("evil.example/login#", "https://console.aws.amazon.com/"),
    ],
)
def test_every_link_is_on_its_partition_s_console(region: str, host: str) -> None:
    links = [
        console.alarm(region, "web 5xx"),
        console.cloudtrail_event(region, "e-1"),
        console.pipeline_execution(region, "web", "x-1"),
        console.log_stream(region, "/aws/codebuild/web", "abc/def"),
        console.target_group(region, "arn:aws:elasticloadbalancing:r:1:targetgroup/web/1"),
        console.classic_load_balancer(region, "web"),
        console.instance(region, "i-0abc"),
    ]
    assert all(link.startswith(host) for link in links), links


def test_an_arn_s_partition_wins_over_the_region_s() -> None:
    url = console.alarm("us-east-1", "x", partition="aws-cn")
    assert url.startswith("https://us-east-1.console.amazonaws.cn/")


def test_names_are_encoded_so_they_cannot_end_the_link() -> None:
    url = console.alarm("us-east-1", "a/b#c|<!here>")
    assert url.endswith("#alarmsV2:alarm/a%2Fb%23c%7C%3C%21here%3E")
    stream = console.log_stream("us-east-1", "/aws/codebuild/web", "web/1")
    assert stream.endswith("log-group/$252Faws$252Fcodebuild$252Fweb/log-events/web$252F1")
