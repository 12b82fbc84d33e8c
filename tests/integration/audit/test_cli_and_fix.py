"""`opsbundle audit` against moto: exit status, the three formats, --env, and --fix changing
exactly what its plan said and nothing else."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from audit import cli as audit_cli
from audit.collect import Clients, Collector
from opsbundle import cli
from tests.integration.audit.conftest import (
    CONTACTS,
    NOW,
    REGION,
    Account,
)
from tests.integration.audit.fixtures import (
    ENV,
    console_user_without_mfa,
    operations_contact_personal,
    security_contact_missing,
    weak_password_policy,
)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def run(
    account: Account,
    argv: list[str],
    monkeypatch: pytest.MonkeyPatch,
    *,
    answer: str | None = None,
    env: dict[str, str] | None = None,
) -> tuple[int, str]:
    for name, value in (ENV if env is None else env).items():
        monkeypatch.setenv(name, value)
    account.sync_root()
    parser = cli.build_parser()
    args = parser.parse_args(["audit", *argv])
    out = io.StringIO()
    stdin: io.StringIO = Terminal(answer) if answer is not None else io.StringIO()
    clients = Clients.create(session=account.session, region=REGION)
    code = audit_cli.audit_command(
        args,
        stdin=stdin,
        out=out,
        clients=clients,
        collector_factory=lambda c: Collector(clients=c, clock=lambda: NOW, sleep=lambda _: None),
    )
    return code, out.getvalue()


def state(account: Account) -> dict[str, Any]:
    """Everything in the account the audit reads, to compare before and after --fix."""
    iam, contacts = account.iam, account.client("account")
    found: dict[str, Any] = {}
    try:
        found["password"] = iam.get_account_password_policy()["PasswordPolicy"]
    except iam.exceptions.NoSuchEntityException:
        found["password"] = None
    for kind in CONTACTS:
        try:
            found[kind] = contacts.get_alternate_contact(AlternateContactType=kind)[
                "AlternateContact"
            ]
        except contacts.exceptions.ResourceNotFoundException:
            found[kind] = None
    details = iam.get_account_authorization_details()
    for key in ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies"):
        found[key] = json.dumps(details[key], default=str, sort_keys=True)
    found["trails"] = account.client("cloudtrail").describe_trails()["trailList"]
    alarms = account.client("cloudwatch").describe_alarms()["MetricAlarms"]
    found["alarms"] = json.dumps(alarms, default=str)
    found["rules"] = account.client("events").list_rules()["Rules"]
    return found


def test_exit_0_when_clean_and_1_with_findings(
    account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out = run(account, [], monkeypatch)
    assert (code, out.split(":")[-1].strip()) == (0, "no findings, the account meets the baseline.")
    console_user_without_mfa(account)
    code, out = run(account, [], monkeypatch)
    assert code == 1
    assert "1  high         user-console-no-mfa  bob" in out
    assert "   Fix:  bob assigns one at sign-in" in out


def test_json_and_slack_formats(account: Account, monkeypatch: pytest.MonkeyPatch) -> None:
    console_user_without_mfa(account)
    code, out = run(account, ["--format", "json"], monkeypatch)
    data = json.loads(out)
    assert code == 1
    assert data["counts"] == {"total": 1, "high": 1, "medium": 0, "unverified": 0}
    assert data["findings"][0]["check"] == "user-console-no-mfa"
    assert set(data["findings"][0]) == {
        "check",
        "resource",
        "severity",
        "what",
        "why",
        "fix",
        "unverified",
    }
    code, out = run(account, ["--format", "slack"], monkeypatch)
    payload = json.loads(out)
    assert payload["text"] == "Account baseline: 1 findings in 123456789012"
    assert payload["blocks"][0]["type"] == "header"


def test_a_missing_setting_is_one_line_and_exit_2(
    account: Account, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    code = cli.main(["audit"])
    [line] = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert line.startswith("opsbundle: configuration error: AUDIT_CONTACT_DOMAINS: is not set")


def test_env_reads_the_baseline_from_the_parameters_file(
    account: Account, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import shutil

    from opsbundle.stacks import TEMPLATES_DIR

    templates = tmp_path / "cloudformation"
    shutil.copytree(TEMPLATES_DIR, templates)
    plan_file = templates / "params" / "prod.json"
    plan = json.loads(plan_file.read_text())
    audit = plan["stacks"]["audit"]["parameters"]
    audit["AuditContactDomains"] = "example.com"
    for kind, contact in CONTACTS.items():
        audit[f"Audit{kind.title()}Contact"] = (
            f"{contact.name} | {contact.title} | {contact.email} | {contact.phone}"
        )
    plan_file.write_text(json.dumps(plan))
    params = ["--env", "prod", "--params-dir", str(templates / "params")]
    code, out = run(account, params, monkeypatch, env={})
    # The prod file names the monitors stack opsbundle-prod-monitors, as the fixture does.
    assert (code, out.split(":")[-1].strip()) == (0, "no findings, the account meets the baseline.")
    audit["AuditSecurityContact"] = "REPLACE_ME"
    plan_file.write_text(json.dumps(plan))
    with pytest.raises(Exception, match="AuditSecurityContact: is a placeholder"):
        run(account, params, monkeypatch, env={})


def test_fix_shows_the_plan_asks_and_changes_only_what_it_said(
    account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    weak_password_policy(account)
    security_contact_missing(account)
    operations_contact_personal(account)
    console_user_without_mfa(account)  # not fixable from code: its command is printed
    before = state(account)

    code, out = run(account, ["--fix"], monkeypatch, answer="n\n")
    assert code == 1
    assert "--fix would make 3 changes to account 123456789012:" in out
    assert "  1. IAM password policy" in out
    assert "MinimumPasswordLength: 8 → 14" in out
    assert "PasswordReusePrevention: 5 → 24" in out
    assert "  2. Alternate contact OPERATIONS" in out
    assert "Jo <jo@gmail.com>, +1 555 0199, Ops → Ops team <ops@example.com>" in out
    assert "  3. Alternate contact SECURITY" in out
    assert "Not changed by --fix (1): user-console-no-mfa · bob" in out
    assert out.rstrip().endswith("Nothing changed.")
    assert state(account) == before  # declined: nothing changed

    code, out = run(account, ["--fix", "--yes"], monkeypatch)
    after = state(account)
    assert code == 1  # bob still has no MFA
    assert "Applied 3 changes. Auditing again:" in out
    assert out.count("user-console-no-mfa · bob (high)") == 2  # before and after
    changed = {key for key in before if before[key] != after[key]}
    assert changed == {"password", "OPERATIONS", "SECURITY"}
    assert after["password"]["MinimumPasswordLength"] == 14
    assert after["password"]["PasswordReusePrevention"] == 24
    for kind in ("OPERATIONS", "SECURITY"):
        contact = CONTACTS[kind]
        assert after[kind]["EmailAddress"] == contact.email
        assert (after[kind]["Name"], after[kind]["PhoneNumber"]) == (contact.name, contact.phone)


def test_fix_keeps_the_password_settings_it_does_not_raise(
    account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    account.iam.update_account_password_policy(
        MinimumPasswordLength=10,
        RequireSymbols=True,
        RequireNumbers=True,
        MaxPasswordAge=90,
        PasswordReusePrevention=24,
        AllowUsersToChangePassword=True,
    )
    code, out = run(account, ["--fix", "--yes"], monkeypatch)
    assert code == 0, out
    policy = account.iam.get_account_password_policy()["PasswordPolicy"]
    assert policy["MinimumPasswordLength"] == 14
    assert (policy["RequireSymbols"], policy["RequireNumbers"], policy["MaxPasswordAge"]) == (
        True,
        True,
        90,
    )
    assert policy["RequireUppercaseCharacters"] is False


def test_fix_without_a_terminal_needs_yes(
    account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    from opsbundle.exceptions import ConfigError

    with pytest.raises(ConfigError, match="--yes: stdin is not a terminal"):
        run(account, ["--fix"], monkeypatch)
