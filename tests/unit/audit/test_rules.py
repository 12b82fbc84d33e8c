"""The baseline's rules on snapshots in AWS's documented shapes, for what moto cannot produce:
a trail that stopped delivering, an organization trail whose status a member cannot read,
a credential report without root's row, NotAction policies, and the day boundaries."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from audit import credential_report, policies, rules
from audit.config import Baseline
from audit.credential_report import AccessKey, CredentialRow
from audit.exceptions import AuditError
from audit.snapshot import PolicyDocument, Snapshot, TrailStatus
from tests.unit.audit.fixtures import BASELINE, CLEAN, NO_KEY, NOW, ROOT, TRAIL


def found(snapshot: Snapshot, baseline: Baseline = BASELINE) -> set[tuple[str, str]]:
    return {(f.check, f.resource) for f in rules.evaluate(snapshot, baseline, now=NOW)}


def test_the_clean_snapshot_is_clean() -> None:
    assert found(CLEAN) == set()


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        # GetTrailStatus's LatestDeliveryError, e.g. after the bucket policy was changed
        (
            TrailStatus(True, NOW - timedelta(hours=1), "AccessDenied", NOW),
            {("trail-delivery", "main")},
        ),
        (
            TrailStatus(True, NOW - timedelta(hours=25), None, NOW - timedelta(days=9)),
            {("trail-delivery", "main")},
        ),
        (TrailStatus(True, None, None, NOW - timedelta(days=2)), {("trail-delivery", "main")}),
        (TrailStatus(True, None, None, NOW - timedelta(hours=1)), set()),  # just started
        (TrailStatus(False, NOW - timedelta(days=3), None, None), {("trail-not-logging", "main")}),
    ],
)
def test_trail_delivery(status: TrailStatus, expected: set[tuple[str, str]]) -> None:
    assert found(replace(CLEAN, trails=(replace(TRAIL, status=status),))) == expected


def test_an_organization_trail_whose_status_cannot_be_read_says_so() -> None:
    trail = replace(
        TRAIL, organization=True, status=None, status_error="GetTrailStatus: AccessDeniedException"
    )
    [finding] = rules.evaluate(replace(CLEAN, trails=(trail,)), BASELINE, now=NOW)
    assert (finding.check, finding.unverified) == ("trail-status-unknown", True)
    assert "organization trail" in finding.what and "management account" in finding.fix


def test_the_best_multi_region_trail_is_judged_not_every_trail() -> None:
    broken = replace(TRAIL, name="old", log_file_validation=False, kms_key_id=None)
    assert found(replace(CLEAN, trails=(broken, TRAIL))) == set()
    assert found(replace(CLEAN, trails=(broken,))) == {
        ("trail-validation-off", "old"),
        ("trail-not-encrypted", "old"),
    }


def test_root_mfa_falls_back_to_the_report_when_the_summary_is_unreadable() -> None:
    snapshot = replace(
        CLEAN,
        summary=None,
        unreadable={"account summary": "X: AccessDenied"},
        credentials=(replace(ROOT, mfa_active=False),),
    )
    assert found(snapshot) == {("unreadable", "account summary"), ("root-mfa", "root")}


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (AccessKey(1, True, NOW - timedelta(days=89), None), set()),
        (AccessKey(1, True, NOW - timedelta(days=91), None), {"user-key-unused"}),
        (AccessKey(1, True, NOW - timedelta(days=91), NOW - timedelta(days=1)), {"user-key-old"}),
        (AccessKey(1, True, NOW - timedelta(days=30), NOW - timedelta(days=1)), set()),
        (AccessKey(1, False, NOW - timedelta(days=400), None), set()),  # inactive keys don't count
    ],
)
def test_key_age_boundaries(key: AccessKey, expected: set[str]) -> None:
    row = CredentialRow(
        "svc", "arn:aws:iam::123456789012:user/svc", None, False, None, False, (key, NO_KEY)
    )
    assert {c for c, _ in found(replace(CLEAN, credentials=(ROOT, row)))} == expected


def test_root_used_by_its_access_key_counts_as_use() -> None:
    key = AccessKey(1, True, NOW - timedelta(days=500), NOW - timedelta(days=2))
    root = replace(ROOT, keys=(key, NO_KEY))
    assert found(replace(CLEAN, credentials=(root,))) == {
        ("root-access-keys", "root"),
        ("root-recently-used", "root"),
    }


@pytest.mark.parametrize(
    ("statement", "admin", "pass_any"),
    [
        ({"Effect": "Allow", "Action": "*", "Resource": "*"}, True, True),
        ({"Effect": "Allow", "Action": "*:*", "Resource": ["*"]}, True, True),
        ({"Effect": "Allow", "Action": "iam:Pass*", "Resource": "*"}, False, True),
        (
            {"Effect": "Allow", "Action": "IAM:passrole", "Resource": "arn:aws:iam::*:role/*"},
            False,
            True,
        ),
        ({"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"}, False, True),
        ({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}, False, False),
        (
            {"Effect": "Allow", "Action": "iam:PassRole", "NotResource": "arn:aws:iam::*:role/x"},
            False,
            True,
        ),
        (
            {
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": "arn:aws:iam::123456789012:role/opsbundle-dev-report-*",
            },
            False,
            False,
        ),
        ({"Effect": "Deny", "Action": "*", "Resource": "*"}, False, False),
    ],
)
def test_policy_reading(statement: dict[str, object], admin: bool, pass_any: bool) -> None:
    document = {"Version": "2012-10-17", "Statement": [statement]}
    assert policies.allows_everything(document) is admin
    assert policies.allows_pass_any_role(document, account="123456789012", partition="aws") is (
        pass_any
    )
    snapshot = replace(CLEAN, policies=(PolicyDocument("policy P", document, "detach"),))
    expected = (
        {("policy-admin", "policy P")}
        if admin
        else ({("policy-passrole-any", "policy P")} if pass_any else set())
    )
    assert found(snapshot) == expected


def test_a_policy_document_as_the_raw_api_sends_it() -> None:
    raw = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D"
    assert policies.document(raw) == {"Version": "2012-10-17", "Statement": []}


def test_credential_report_parsing() -> None:
    header = (
        "user,arn,user_creation_time,password_enabled,password_last_used,"
        "password_last_changed,password_next_rotation,mfa_active,access_key_1_active,"
        "access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,"
        "access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,"
        "access_key_2_last_used_date,access_key_2_last_used_region,"
        "access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,"
        "cert_2_last_rotated"
    )
    root = (
        "<root_account>,arn:aws:iam::123456789012:root,2020-01-01T00:00:00+00:00,"
        "not_supported,2026-05-30T10:00:00+00:00,not_supported,not_supported,true,false,N/A,"
        "N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A"
    )
    user = (
        "ann,arn:aws:iam::123456789012:user/ann,2025-01-01T00:00:00+00:00,true,"
        "no_information,2025-01-01T00:00:00+00:00,N/A,false,true,2025-01-02T00:00:00+00:00,"
        "N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A"
    )
    rows = credential_report.parse(f"{header}\n{root}\n{user}\n".encode())
    assert [r.user for r in rows] == ["<root_account>", "ann"]
    assert rows[0].is_root and rows[0].mfa_active and not rows[0].password_enabled
    assert rows[1].password_last_used is None and rows[1].keys[0].last_used is None
    assert rows[1].active_keys == (rows[1].keys[0],)
    with pytest.raises(AuditError, match="password_last_used on line 3 is not a date"):
        credential_report.parse(f"{header}\n{root}\n{user.replace('no_information', 'soon')}\n")
    with pytest.raises(AuditError, match="no mfa_active column"):
        credential_report.parse("user,arn,password_enabled\n")
