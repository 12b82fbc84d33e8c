"""`opsbundle dashboards build` output, the upload settings, and the rules' own contract
(every alert has a summary, a description, a runbook that exists, and unit tests that see
it both firing and quiet)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from dashboards import upload
from dashboards.build import RULES_DIR, build_all, render_rules, rule_files, to_json, write_all
from opsbundle.cli import main
from opsbundle.exceptions import ConfigError, SecretError
from opsbundle.settings import Env

DOCS = Path(__file__).resolve().parents[3] / "docs" / "dashboards.md"


@pytest.fixture(autouse=True)
def no_grafana_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "GRAFANA_URL",
        "GRAFANA_TOKEN",
        "GRAFANA_TOKEN_SECRET_ARN",
        "GRAFANA_FOLDER",
        "DASHBOARDS_RUNBOOK_BASE_URL",
    ):
        monkeypatch.delenv(name, raising=False)


def test_build_writes_every_dashboard_and_rule_file(tmp_path: Path) -> None:
    written = write_all(tmp_path)
    boards = sorted(p.name for p in tmp_path.glob("*.json"))
    assert boards == sorted(f"{b['uid']}.json" for b in build_all().values())
    assert sorted(p.name for p in (tmp_path / "rules").glob("*.yml")) == sorted(
        p.name for p in rule_files()
    )
    assert len(written) == len(boards) + len(rule_files())
    first = {p.name: p.read_bytes() for p in tmp_path.glob("*.json")}
    write_all(tmp_path)
    assert first == {p.name: p.read_bytes() for p in tmp_path.glob("*.json")}  # deterministic
    assert json.loads((tmp_path / "opsbundle-rds.json").read_text())["title"] == "RDS"


def test_cli_build_prints_the_files_and_makes_runbooks_absolute(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "DASHBOARDS_RUNBOOK_BASE_URL", "https://git.example.com/ops/opsbundle/-/blob/main/"
    )
    assert main(["dashboards", "build", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out.split()
    assert str(tmp_path / "opsbundle-lambda-health.json") in printed
    rules = (tmp_path / "rules" / "lambda.yml").read_text()
    assert (
        "runbook_url: https://git.example.com/ops/opsbundle/-/blob/main/docs/dashboards.md#"
        "lambdaerrorratehigh" in rules
    )
    assert yaml.safe_load(rules)["groups"]


def test_render_rules_leaves_sources_alone_without_a_base() -> None:
    text = "runbook_url: docs/dashboards.md#x"
    assert render_rules(text, None) == text
    assert render_rules(text, "https://h/r") == "runbook_url: https://h/r/docs/dashboards.md#x"


def test_cli_upload_without_a_url_or_token_is_a_configuration_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["dashboards", "upload"]) == 2
    assert "GRAFANA_URL: is not set (or pass --grafana-url)" in capsys.readouterr().err
    assert main(["dashboards", "upload", "--grafana-url", "grafana.internal:3000"]) == 2
    assert "GRAFANA_URL: expected an https URL" in capsys.readouterr().err
    # the token goes with every request: never over plain http to another machine
    assert main(["dashboards", "upload", "--grafana-url", "http://grafana.internal:3000"]) == 2
    assert "GRAFANA_URL: 'http://grafana.internal:3000' must be an https:// URL" in (
        capsys.readouterr().err
    )
    assert main(["dashboards", "upload", "--grafana-url", "https://grafana.internal"]) == 2
    assert "GRAFANA_TOKEN: is not set (or set GRAFANA_TOKEN_SECRET_ARN)" in capsys.readouterr().err


class FakeSecrets:
    def __init__(self, value: str | None) -> None:
        self.value = value
        self.asked: list[str] = []

    def token(self, ref: str, *, setting: str, key: str = "token") -> str:
        self.asked.append(ref)
        if self.value is None:
            raise SecretError(setting, f"could not read secret {ref}: ResourceNotFoundException")
        return self.value


def test_token_from_the_environment_first_then_secrets_manager() -> None:
    secrets: Any = FakeSecrets("glsa_from_secret")
    env = Env({"GRAFANA_TOKEN": "glsa_from_env", "GRAFANA_TOKEN_SECRET_ARN": "arn:secret"})
    assert upload.grafana_token(env=env, secrets=secrets) == "glsa_from_env"
    assert secrets.asked == []
    env = Env({"GRAFANA_TOKEN_SECRET_ARN": "arn:secret"})
    assert upload.grafana_token(env=env, secrets=secrets) == "glsa_from_secret"
    # An explicit --token-secret-arn wins over a token in the environment.
    env = Env({"GRAFANA_TOKEN": "glsa_from_env"})
    assert (
        upload.grafana_token(explicit_secret="arn:flag", env=env, secrets=secrets)
        == "glsa_from_secret"
    )
    assert secrets.asked[-1] == "arn:flag"
    with pytest.raises(SecretError, match="GRAFANA_TOKEN_SECRET_ARN: could not read"):
        upload.grafana_token(
            env=Env({"GRAFANA_TOKEN_SECRET_ARN": "arn:x"}), secrets=FakeSecrets(None)
        )  # type: ignore[arg-type]


def test_grafana_url_is_checked_and_trimmed() -> None:
    assert (
        upload.grafana_url("https://grafana.example.com/sub/") == "https://grafana.example.com/sub"
    )
    assert (
        upload.grafana_url(env=Env({"GRAFANA_URL": "http://127.0.0.1:3000"}))
        == "http://127.0.0.1:3000"
    )
    with pytest.raises(ConfigError, match="GRAFANA_URL"):
        upload.grafana_url("ftp://grafana")


# -- the rules' contract -------------------------------------------------------------------


def alerts() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in rule_files():
        for group in yaml.safe_load(path.read_text())["groups"]:
            found += [(path.name, rule) for rule in group["rules"] if "alert" in rule]
    return found


def test_every_alert_has_severity_summary_description_and_a_runbook_that_exists() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    anchors = {_anchor(h) for h in re.findall(r"^#+ (.+)$", docs, re.M)}
    names = [rule["alert"] for _, rule in alerts()]
    assert {
        "LambdaErrorRateHigh",
        "LambdaThrottled",
        "TargetsUnhealthy",
        "OpsbundleReportMissing",
        "OpsbundleLogShipperDeadLetters",
        "RdsStorageLow",
    } <= set(names)
    for _, rule in alerts():
        assert rule["labels"]["severity"] in ("warning", "critical")
        notes = rule["annotations"]
        assert notes["summary"] and len(notes["description"]) > 60
        url = notes["runbook_url"]
        assert url == f"docs/dashboards.md#{rule['alert'].lower()}"
        assert url.split("#")[1] in anchors, f"no '{rule['alert']}' heading in docs/dashboards.md"


def test_every_alert_has_unit_tests_firing_and_quiet() -> None:
    firing: set[str] = set()
    quiet: set[str] = set()
    for path in sorted((RULES_DIR / "tests").glob("*.yml")):
        for case in yaml.safe_load(path.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):
                (firing if check.get("exp_alerts") else quiet).add(check["alertname"])
    names = {rule["alert"] for _, rule in alerts()}
    assert names <= firing, f"never seen firing: {names - firing}"
    assert names <= quiet, f"never seen quiet: {names - quiet}"


def _anchor(heading: str) -> str:
    """GitHub's heading anchor: lower case, punctuation dropped, spaces to dashes."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_the_committed_generated_files_match_the_code() -> None:
    """dashboards/generated/ is what `make dashboards` writes; rebuild it after a change."""
    generated = Path(__file__).parents[3] / "dashboards" / "generated"
    for board in build_all().values():
        path = generated / f"{board['uid']}.json"
        assert path.read_text("utf-8") == to_json(board), f"{path} is stale: make dashboards"
    for source in rule_files():
        assert (generated / "rules" / source.name).read_text("utf-8") == source.read_text(
            "utf-8"
        ), f"generated/rules/{source.name} is stale: make dashboards"
