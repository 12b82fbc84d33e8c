"""Settings and routes: defaults, and errors that name the variable to fix."""

from __future__ import annotations

import json

import pytest

from log_shipper.config import ShipperSettings
from log_shipper.routing import Router
from log_shipper.template import index_patterns, template_body
from opsbundle.exceptions import ConfigError
from opsbundle.settings import Env

BASE = {
    "OPENSEARCH_URL": "https://search-logs.us-east-1.es.amazonaws.com/",
    "LOG_SHIPPER_DLQ_BUCKET": "dlq",
}


def load(**env: str) -> ShipperSettings:
    return ShipperSettings.load(Env({**BASE, **env}))


def test_defaults() -> None:
    settings = load()
    assert settings.opensearch_url == "https://search-logs.us-east-1.es.amazonaws.com"
    assert (settings.auth, settings.gzip, settings.batch_bytes, settings.batch_count) == (
        "none",
        True,
        5 * 1024 * 1024,
        5000,
    )
    assert settings.dlq_prefix == "log-shipper/dead-letters/"
    assert settings.router.route("/aws/lambda/x").index == "logs-{log_group}-{yyyy.MM.dd}"


@pytest.mark.parametrize(
    ("env", "setting", "problem"),
    [
        ({"OPENSEARCH_URL": ""}, "OPENSEARCH_URL", "is not set"),
        ({"OPENSEARCH_URL": "search.example.com"}, "OPENSEARCH_URL", "must start with https://"),
        ({"LOG_SHIPPER_DLQ_BUCKET": ""}, "LOG_SHIPPER_DLQ_BUCKET", "nothing is dropped"),
        ({"OPENSEARCH_AUTH": "iam"}, "OPENSEARCH_AUTH", "must be one of"),
        ({"OPENSEARCH_AUTH": "basic"}, "OPENSEARCH_SECRET_ARN", "username"),
        ({"OPENSEARCH_AUTH": "sigv4-es"}, "OPENSEARCH_REGION", "SigV4"),
        ({"LOG_SHIPPER_BATCH_BYTES": "10"}, "LOG_SHIPPER_BATCH_BYTES", "between"),
        ({"LOG_SHIPPER_INDEX": "Logs-{log_group}"}, "LOG_SHIPPER_INDEX", "valid index name"),
        ({"LOG_SHIPPER_INDEX": "logs-{group}"}, "LOG_SHIPPER_INDEX", "unknown placeholders"),
        ({"LOG_SHIPPER_ROUTES": "{"}, "LOG_SHIPPER_ROUTES", "not valid JSON"),
        ({"LOG_SHIPPER_ROUTES": "{}"}, "LOG_SHIPPER_ROUTES", "JSON list"),
        ({"LOG_SHIPPER_ROUTES": '[{"index": "x"}]'}, "LOG_SHIPPER_ROUTES[0]", "log_group"),
        (
            {"LOG_SHIPPER_ROUTES": '[{"log_group": "*", "colour": 1}]'},
            "LOG_SHIPPER_ROUTES[0]",
            "unknown keys",
        ),
        (
            {"LOG_SHIPPER_ROUTES": '[{"log_group": "*", "include": ["("]}]'},
            "LOG_SHIPPER_ROUTES[0].include",
            "bad regular expression",
        ),
        ({"LOG_SHIPPER_REDACT": "maybe"}, "LOG_SHIPPER_REDACT", "true or false"),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], setting: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(**env)
    assert caught.value.setting == setting
    assert problem in caught.value.problem


def test_sigv4_takes_the_lambda_region() -> None:
    settings = load(OPENSEARCH_AUTH="sigv4-aoss", AWS_REGION="eu-west-1")
    assert (settings.auth, settings.region) == ("sigv4-aoss", "eu-west-1")


def test_routes_first_match_wins_and_fall_back_to_defaults() -> None:
    router = Router.load(
        default_index="logs-{log_group}",
        redact=True,
        routes=json.dumps(
            [
                {
                    "log_group": "/aws/lambda/billing-*",
                    "index": "billing-{yyyy.MM}",
                    "redact": False,
                },
                {"log_group": "/aws/lambda/*", "exclude": ["^healthcheck"]},
            ]
        ),
    )
    billing = router.route("/aws/lambda/billing-api")
    assert (billing.index, billing.redact, billing.filters) == ("billing-{yyyy.MM}", False, False)
    other = router.route("/aws/lambda/leads")
    assert (other.index, other.redact) == ("logs-{log_group}", True)
    assert not other.wants("healthcheck ok") and other.wants("lead created")
    assert router.route("/ecs/web") is router.default


def test_the_template_covers_every_routed_index() -> None:
    router = Router.load(routes=json.dumps([{"log_group": "/b*", "index": "billing-{yyyy.MM}"}]))
    assert index_patterns(router) == ["billing-*", "logs-*-*"]
    body = template_body(router, data_stream=True)
    assert body["data_stream"] == {}
    properties = body["template"]["mappings"]["properties"]
    assert properties["lambda"]["properties"]["duration_ms"] == {"type": "float"}
    assert properties["@timestamp"] == {"type": "date"}
    assert "data_stream" not in template_body(router)


@pytest.mark.parametrize(
    ("url", "auth", "allowed"),
    [
        ("http://search.internal:9200", "basic", False),  # a password in clear text
        ("http://search.internal:9200", "sigv4-es", False),  # a session token in clear text
        ("http://search.internal:9200", "sigv4-aoss", False),
        ("http://search.internal:9200", "none", True),  # no credential travels
        ("http://127.0.0.1:9200", "basic", True),  # this machine: tests, a tunnel
        ("https://search.internal", "basic", True),
    ],
)
def test_credentials_go_to_opensearch_only_over_https(url: str, auth: str, allowed: bool) -> None:
    env = {"OPENSEARCH_URL": url, "OPENSEARCH_AUTH": auth, "OPENSEARCH_SECRET_ARN": "arn:s",
           "OPENSEARCH_REGION": "us-east-1"}  # fmt: skip
    if allowed:
        assert load(**env).opensearch_url == url
        return
    with pytest.raises(ConfigError) as raised:
        load(**env)
    assert raised.value.setting == "OPENSEARCH_URL"
    assert "must be an https:// URL" in str(raised.value)
