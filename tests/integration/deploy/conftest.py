"""`opsbundle deploy` against a moto_server on 127.0.0.1 (AWS_ENDPOINT_URL), one per module.

The credentials are moto's placeholders, set in the environment for the test only; no request
leaves 127.0.0.1. Each test starts from an empty moto (POST /moto-api/reset).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import shutil
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.integration.moto_process import reset

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "fixtures" / "deploy"
REGION = "us-east-1"
PREFIX = "ob-it"
BUCKET = "ob-it-artifacts"


@pytest.fixture
def aws(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """Environment pointing boto3 at moto_server, and clients for checking what it holds."""
    reset(moto_url)
    for name, value in {
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_DEFAULT_REGION", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    session = boto3.Session(region_name=REGION)
    clients = {
        name: session.client(name)
        for name in ("cloudformation", "s3", "sqs", "lambda", "logs", "kms", "sns")
    }
    clients["s3"].create_bucket(Bucket=BUCKET)
    clients["s3"].put_bucket_versioning(
        Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"}
    )
    yield clients


@dataclass
class Workspace:
    root: Path
    params_dir: Path
    templates_dir: Path
    dist: Path
    zip_sha256: str

    def plan(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.params_dir / "dev.json").read_text())
        return data

    def write_plan(self, plan: dict[str, Any]) -> None:
        (self.params_dir / "dev.json").write_text(json.dumps(plan, indent=2))

    def cli(self, *extra: str) -> list[str]:
        return ["deploy", "--env", "dev", "--params-dir", str(self.params_dir),
                "--dist", str(self.dist), *extra]  # fmt: skip  # laid out as a table


def fake_zip(dist: Path, name: str = "report_fn") -> str:
    """A small zip standing in for <name>.zip (packaging is tested on its own)."""
    dist.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo(f"{name}/handler.py", (1980, 1, 1, 0, 0, 0))
        archive.writestr(info, "def handler(event, context):\n    return None\n")
    body = buffer.getvalue()
    sha = base64.b64encode(hashlib.sha256(body).digest()).decode()
    (dist / f"{name}.zip").write_bytes(body)
    (dist / f"{name}.zip.sha256").write_text(sha + "\n")
    return sha


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    """cloudformation/ with the real alerting.yaml and the test-only consumer stack."""
    templates = tmp_path / "cloudformation"
    params = templates / "params"
    params.mkdir(parents=True)
    shutil.copy(ROOT / "cloudformation" / "alerting.yaml", templates / "alerting.yaml")
    shutil.copy(FIXTURES / "consumer.yaml", templates / "consumer.yaml")
    sha = fake_zip(tmp_path / "dist")
    plan = {
        "stack_prefix": PREFIX,
        "artifact_bucket": BUCKET,
        "tags": {"project": "opsbundle-test"},
        "stacks": {
            # consumer first in the file: the order must come from the references.
            "consumer": {"template": "consumer.yaml", "parameters": {
                "KmsKeyArn": "${output:alerting.KmsKeyArn}",
                "OpsTopicArn": "${output:alerting.OpsTopicArn}",
                "ArtifactBucket": "${artifacts}",
                "CodeKey": "${package:report_fn}",
                "CodeVersion": "${version:report_fn}",
                "RetentionDays": 30,
            }},
            "alerting": {"parameters": {"StackPrefix": "${prefix}",
                                        "AlertEmails": "ops@example.com"}},
        },
    }  # fmt: skip  # laid out as a table
    workspace = Workspace(tmp_path, params, templates, tmp_path / "dist", sha)
    workspace.write_plan(plan)
    return workspace


class Terminal(io.StringIO):
    """Answers typed at a terminal."""

    def isatty(self) -> bool:
        return True
