"""`opsbundle targets inspect`: usage and setup problems exit 2 with one line naming what."""

from __future__ import annotations

import pytest

from opsbundle.cli import main


def test_not_a_target_group_arn(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["targets", "inspect", "web-prod"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "opsbundle: configuration error: TARGET_GROUP_ARN: 'web-prod' is not a target group "
        "ARN (arn:aws:elasticloadbalancing:<region>:<account>:targetgroup/<name>/<id>)"
    ]


def test_no_aws_credentials_is_a_setup_error_not_a_failed_inspection(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: object
) -> None:
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ENDPOINT_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/6d0ecf831eec9f09"
    assert main(["targets", "inspect", arn]) == 2
    assert "configuration error: AWS credentials: none found" in capsys.readouterr().err
