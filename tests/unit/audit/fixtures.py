"""A clean account, as a snapshot: each test changes one part of it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from audit.config import Baseline
from audit.credential_report import AccessKey, CredentialRow
from audit.snapshot import Contact, Snapshot, Trail, TrailStatus

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
BASELINE = Baseline(contact_domains=("example.com",))
NO_KEY = AccessKey(2, False, None, None)
ROOT = CredentialRow(
    "<root_account>",
    "arn:aws:iam::123456789012:root",
    None,
    False,
    NOW - timedelta(days=300),
    True,
    (AccessKey(1, False, None, None), NO_KEY),
)
TRAIL = Trail(
    name="main",
    arn="arn:aws:cloudtrail:us-east-1:123456789012:trail/main",
    home_region="us-east-1",
    multi_region=True,
    log_file_validation=True,
    kms_key_id="arn:aws:kms:us-east-1:123456789012:key/k",
    s3_bucket="trail-bucket",
    organization=False,
    status=TrailStatus(True, NOW - timedelta(minutes=5), None, NOW - timedelta(days=30)),
)
CLEAN = Snapshot(
    account="123456789012",
    partition="aws",
    region="us-east-1",
    taken_at=NOW,
    summary={"AccountMFAEnabled": 1, "AccountAccessKeysPresent": 0},
    password_policy={"MinimumPasswordLength": 14, "PasswordReusePrevention": 24},
    password_policy_read=True,
    credentials=(ROOT,),
    contacts={
        kind: Contact("Team", "Ops", "team@example.com", "+1 555")
        for kind in ("OPERATIONS", "BILLING", "SECURITY")
    },
    trails=(TRAIL,),
    user_policies=(),
    policies=(),
    monitors=None,
)
