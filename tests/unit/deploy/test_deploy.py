"""The deploy run: checks before changes, no half-deploy without saying so, the prompt."""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from opsbundle import cli
from opsbundle.changesets import Stacks
from opsbundle.deploy import Artifacts, Deployer, Target, package_key, template_source
from opsbundle.deploy_cli import deploy_command
from opsbundle.exceptions import ConfigError, DeployError
from opsbundle.stacks import load_plan
from tests.unit.deploy.fakes import FakeCloudFormation, fixture

BASE = """
Resources:
  Key: {Type: AWS::KMS::Key}
Outputs:
  KeyArn: {Value: !GetAtt Key.Arn}
"""
APP = """
Parameters:
  KeyArn: {Type: String}
  Code: {Type: String}
  Version: {Type: String}
  Bucket: {Type: String}
Resources:
  Queue: {Type: AWS::SQS::Queue}
"""


OWNER = "123456789012"


class FakeS3:
    """S3 as the deploy uses it: versions, SHA-256 checksums, and the ExpectedBucketOwner
    check (a call without it, or naming another account, is refused as S3 would)."""

    def __init__(self, buckets: set[str] | None = None, *, owner: str = OWNER) -> None:
        self.buckets = set(buckets or ())
        self.owner = owner
        self.versioned = True
        self.checksums = True  # False: objects without a stored checksum (older uploads)
        self.objects: dict[tuple[str, str], bytes] = {}
        self.versions: dict[tuple[str, str], list[tuple[str, bytes, str | None]]] = {}
        self.calls: list[str] = []

    def _missing(self, operation: str) -> ClientError:
        return ClientError({"Error": {"Code": "404", "Message": "Not Found"}}, operation)

    def _owned(self, kwargs: dict[str, Any], operation: str) -> None:
        if kwargs.get("ExpectedBucketOwner") != self.owner:
            raise ClientError({"Error": {"Code": "403", "Message": "Forbidden"}}, operation)

    def head_bucket(self, Bucket: str, **kwargs: Any) -> None:
        self.calls.append("head_bucket")
        if Bucket not in self.buckets:
            raise self._missing("HeadBucket")
        self._owned(kwargs, "HeadBucket")

    def get_bucket_versioning(self, Bucket: str, **kwargs: Any) -> dict[str, Any]:
        self._owned(kwargs, "GetBucketVersioning")
        return {"Status": "Enabled"} if self.versioned else {}

    def create_bucket(self, Bucket: str, **kwargs: Any) -> None:
        self.calls.append(f"create_bucket {json.dumps(kwargs, sort_keys=True)}")
        self.buckets.add(Bucket)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("put_bucket") or name == "put_public_access_block":

            def call(**kwargs: Any) -> None:
                self._owned(kwargs, name)
                self.calls.append(name)

            return call
        raise AttributeError(name)

    def head_object(self, Bucket: str, Key: str, **kwargs: Any) -> dict[str, Any]:
        self._owned(kwargs, "HeadObject")
        if (Bucket, Key) not in self.versions:
            raise self._missing("HeadObject")
        version, _, checksum = self.versions[(Bucket, Key)][-1]
        head: dict[str, Any] = {"VersionId": version}
        if checksum and kwargs.get("ChecksumMode") == "ENABLED":
            head["ChecksumSHA256"] = checksum
        return head

    def get_object(self, Bucket: str, Key: str, VersionId: str, **kwargs: Any) -> dict[str, Any]:
        self._owned(kwargs, "GetObject")
        self.calls.append(f"get_object {Key}")
        [body] = [b for v, b, _ in self.versions[(Bucket, Key)] if v == VersionId]
        return {"Body": io.BytesIO(body)}

    def put_object(self, Bucket: str, Key: str, Body: bytes, **kwargs: Any) -> dict[str, Any]:
        self._owned(kwargs, "PutObject")
        self.calls.append(f"put_object {Key}")
        expected = kwargs.get("ChecksumSHA256")
        if expected and expected != base64.b64encode(hashlib.sha256(Body).digest()).decode():
            raise ClientError({"Error": {"Code": "BadDigest", "Message": "x"}}, "PutObject")
        self.objects[(Bucket, Key)] = Body
        history = self.versions.setdefault((Bucket, Key), [])
        version = f"v{len(history) + 1}" if self.versioned else "null"
        history.append((version, Body, expected if self.checksums else None))
        return {"VersionId": version} if self.versioned else {}

    def overwrite(self, key: str, body: bytes) -> None:
        """Someone else writes at `key` (a new version, no checksum)."""
        history = self.versions.setdefault(("art", key), [])
        history.append((f"v{len(history) + 1}", body, None))
        self.objects[("art", key)] = body


def workspace(tmp_path: Path) -> tuple[Path, Path]:
    templates = tmp_path / "cloudformation"
    (templates / "params").mkdir(parents=True)
    (templates / "base.yaml").write_text(BASE)
    (templates / "app.yaml").write_text(APP)
    plan = {"stack_prefix": "ob", "stacks": {
        "base": {},
        "app": {"parameters": {"KeyArn": "${output:base.KeyArn}", "Code": "${package:report_fn}",
                               "Version": "${version:report_fn}", "Bucket": "${artifacts}"}},
    }}  # fmt: skip  # laid out as a table
    (templates / "params" / "dev.json").write_text(json.dumps(plan))
    dist = tmp_path / "dist"
    dist.mkdir()
    body = b"PK fake zip"
    (dist / "report_fn.zip").write_bytes(body)
    (dist / "report_fn.zip.sha256").write_text(
        base64.b64encode(hashlib.sha256(body).digest()).decode()
    )
    return templates / "params", dist


def deployer(
    tmp_path: Path, fake: FakeCloudFormation, s3: FakeS3, answers: list[bool]
) -> tuple[Deployer, io.StringIO]:
    params, dist = workspace(tmp_path)
    plan = load_plan("dev", params_dir=params, lambdas=["report_fn"])
    out = io.StringIO()
    target = Target(account="123456789012", region="us-east-1", artifact_bucket="art")
    return Deployer(
        plan, target, stacks=Stacks(fake, sleep=lambda s: None, poll_seconds=0),
        artifacts=Artifacts(s3, "art", "us-east-1", owner=OWNER, environment="dev"),
        dist=dist, out=out,
        confirm=lambda question: answers.pop(0), clock=lambda: 0.0,
    ), out  # fmt: skip  # laid out as a table


def with_changes(fake: FakeCloudFormation, *stacks: str) -> None:
    for stack in stacks:
        fake.next_change_set[stack] = fixture("describe_change_set_update.json")


def test_a_blocked_stack_stops_the_run_before_anything_changes(tmp_path: Path) -> None:
    fake = FakeCloudFormation()
    fake.add_stack("ob-base", "UPDATE_COMPLETE", outputs={"KeyArn": "arn:k"})
    fake.add_stack("ob-app", "UPDATE_ROLLBACK_FAILED")
    s3 = FakeS3({"art"})
    run, _ = deployer(tmp_path, fake, s3, [])

    with pytest.raises(DeployError, match=r"^ob-app is UPDATE_ROLLBACK_FAILED: an update failed"):
        run.run(dry_run=False)

    assert fake.called("create_change_set") == []
    assert s3.objects == {}


def test_a_missing_zip_stops_the_run_before_anything_changes(tmp_path: Path) -> None:
    fake = FakeCloudFormation()
    s3 = FakeS3()
    run, _ = deployer(tmp_path, fake, s3, [])
    (tmp_path / "dist" / "report_fn.zip").unlink()

    with pytest.raises(ConfigError, match=r"report_fn.zip: is not built: run make package"):
        run.run(dry_run=False)

    assert s3.calls == [] and fake.calls == [c for c in fake.calls if c[0] == "describe_stacks"]


def test_a_stale_checksum_is_refused(tmp_path: Path) -> None:
    _, dist = workspace(tmp_path)
    (dist / "report_fn.zip").write_bytes(b"rebuilt without the sidecar")
    with pytest.raises(ConfigError, match="does not match the zip next to it"):
        package_key("report_fn", dist)


def test_the_zip_goes_to_a_content_addressed_key_once(tmp_path: Path) -> None:
    fake = FakeCloudFormation()
    fake.add_stack("ob-base", "UPDATE_COMPLETE", outputs={"KeyArn": "arn:k"})
    s3 = FakeS3()
    run, out = deployer(tmp_path, fake, s3, [True, True])
    digest = hashlib.sha256(b"PK fake zip").hexdigest()

    outcome = run.run(dry_run=False)

    assert s3.calls[0] == "head_bucket"
    assert s3.calls[1] == "create_bucket {}"  # us-east-1: no LocationConstraint
    assert {
        "put_public_access_block",
        "put_bucket_versioning",
        "put_bucket_encryption",
        "put_bucket_policy",
    } <= set(s3.calls)
    assert f"put_object dev/lambda/report_fn/{digest}.zip" in s3.calls
    [_, app] = fake.called("create_change_set")
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in app["Parameters"]}
    assert parameters["Code"] == f"dev/lambda/report_fn/{digest}.zip"
    assert parameters["Version"] == "v1"
    assert parameters["Bucket"] == "art"
    assert outcome.unchanged == ["base", "app"]  # the fake's change sets are empty by default
    s3.calls.clear()
    run.run(dry_run=False)
    assert not [c for c in s3.calls if c.startswith(("put_object", "create_bucket"))]
    assert "report_fn: unchanged s3://art/dev/lambda/report_fn/" in out.getvalue()


def test_declining_the_second_stack_says_what_is_deployed_and_what_is_not(tmp_path: Path) -> None:
    fake = FakeCloudFormation()
    fake.add_stack("ob-base", "UPDATE_COMPLETE", outputs={"KeyArn": "arn:k"})
    fake.add_stack("ob-app", "UPDATE_COMPLETE")
    with_changes(fake, "ob-base", "ob-app")
    run, out = deployer(tmp_path, fake, FakeS3({"art"}), [True, False])

    with pytest.raises(DeployError) as raised:
        run.run(dry_run=False)

    assert str(raised.value) == "you declined ob-app; deployed: base; not deployed: app"
    [executed] = fake.called("execute_change_set")
    [deleted] = fake.called("delete_change_set")
    assert executed["ChangeSetName"].endswith("/0")  # base's, the first made
    assert deleted["ChangeSetName"].endswith("/1")  # app's, declined
    assert "ob-app" in fake.stacks  # an existing stack is left as it was
    assert "ob-base: done" in out.getvalue()


def test_a_failed_execution_names_the_stack_state_and_the_rest(tmp_path: Path) -> None:
    fake = FakeCloudFormation()
    fake.add_stack("ob-base", "UPDATE_COMPLETE", outputs={"KeyArn": "arn:k"})
    fake.add_stack("ob-app", "UPDATE_COMPLETE")
    with_changes(fake, "ob-base", "ob-app")
    events = fixture("stack_events_update_rollback.json")["StackEvents"]
    fake.execution["ob-base"] = ("UPDATE_ROLLBACK_COMPLETE", events)
    run, _ = deployer(tmp_path, fake, FakeS3({"art"}), [True, True])

    with pytest.raises(DeployError) as raised:
        run.run(dry_run=False)

    message = str(raised.value)
    assert message.startswith("ob-base stopped at UPDATE_ROLLBACK_COMPLETE: ReportFunction: ")
    assert message.endswith("; deployed: none; failed: base; not started: app")
    assert len(fake.called("execute_change_set")) == 1


def test_dry_run_executes_nothing_and_deletes_its_change_sets(tmp_path: Path) -> None:
    fake = FakeCloudFormation()
    fake.add_stack("ob-base", "UPDATE_COMPLETE", outputs={"KeyArn": "arn:k"})
    fake.add_stack("ob-app", "UPDATE_COMPLETE")
    with_changes(fake, "ob-base", "ob-app")
    run, out = deployer(tmp_path, fake, FakeS3({"art"}), [])

    outcome = run.run(dry_run=True)

    assert outcome.reviewed == ["base", "app"]
    assert fake.called("execute_change_set") == []
    assert len(fake.called("delete_change_set")) == 2
    assert "ob-app: update, 5 resource change(s)" in out.getvalue()


class Piped(io.StringIO):
    def isatty(self) -> bool:
        return False


def parse(argv: list[str]) -> argparse.Namespace:
    return cli.build_parser().parse_args(argv)


def test_no_terminal_and_no_yes_refuses_without_asking_aws(tmp_path: Path) -> None:
    params, _ = workspace(tmp_path)

    def no_session(**kwargs: Any) -> Any:
        raise AssertionError("no AWS session may be made")

    with pytest.raises(ConfigError, match=r"^--yes: stdin is not a terminal"):
        deploy_command(
            parse(["deploy", "--env", "dev", "--params-dir", str(params)]),
            stdin=Piped("y\n"),
            session_factory=no_session,
        )


@pytest.mark.parametrize("extra", [["--yes"], ["--dry-run"], ["--pipeline-config", "out"]])
def test_yes_dry_run_and_pipeline_config_need_no_terminal(tmp_path: Path, extra: list[str]) -> None:
    params, _ = workspace(tmp_path)
    made: list[dict[str, Any]] = []

    class Stop(Exception):
        pass

    def session(**kwargs: Any) -> Any:
        made.append(kwargs)
        raise Stop

    with pytest.raises(Stop):
        args = parse(["deploy", "--env", "dev", "--params-dir", str(params), *extra])
        deploy_command(
            args, stdin=Piped(""), session_factory=session, environ={"AWS_REGION": "eu-west-1"}
        )
    assert made == [{"region_name": "eu-west-1"}]


def test_region_flag_wins_over_aws_region(tmp_path: Path) -> None:
    params, _ = workspace(tmp_path)
    made: list[dict[str, Any]] = []

    def session(**kwargs: Any) -> Any:
        made.append(kwargs)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        deploy_command(
            parse(
                [
                    "deploy",
                    "--env",
                    "dev",
                    "--dry-run",
                    "--params-dir",
                    str(params),
                    "--region",
                    "us-west-2",
                ]
            ),
            session_factory=session,
            environ={"AWS_REGION": "eu-west-1"},
        )
    assert made == [{"region_name": "us-west-2"}]


def test_bad_env_through_the_cli_is_exit_2_and_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["deploy", "--env", "qa", "--dry-run"]) == 2
    assert capsys.readouterr().err == (
        "opsbundle: configuration error: --env: must be one of dev, staging, prod, got 'qa'\n"
    )


def test_an_interrupt_while_waiting_says_which_stack_carries_on(tmp_path: Path) -> None:
    fake = FakeCloudFormation()
    fake.add_stack("ob-base", "UPDATE_COMPLETE", outputs={"KeyArn": "arn:k"})
    fake.add_stack("ob-app", "UPDATE_COMPLETE")
    with_changes(fake, "ob-base", "ob-app")
    run, _ = deployer(tmp_path, fake, FakeS3({"art"}), [True])

    def interrupt(**kwargs: Any) -> None:
        raise KeyboardInterrupt

    fake.execute_change_set = interrupt  # type: ignore[method-assign]

    with pytest.raises(DeployError) as raised:
        run.run(dry_run=False)

    assert str(raised.value) == (
        "interrupted while ob-base was executing; CloudFormation carries on with it (watch "
        "its events); deployed: none; not started: app"
    )


def test_a_template_too_large_for_a_body_goes_through_s3(tmp_path: Path) -> None:
    params, _ = workspace(tmp_path)
    big = BASE + "# " + "x" * 52_000 + "\n"
    (params.parent / "base.yaml").write_text(big)
    plan = load_plan("dev", params_dir=params, lambdas=["report_fn"])
    s3 = FakeS3({"art"})

    artifacts = Artifacts(s3, "art", "eu-west-1", owner=OWNER, environment="dev")
    body, url = template_source(plan.stacks[0], artifacts)

    digest = hashlib.sha256(big.encode()).hexdigest()
    assert body is None
    assert url == (
        f"https://art.s3.eu-west-1.amazonaws.com/dev/templates/base/{digest}.yaml?versionId=v1"
    )
    assert s3.objects[("art", f"dev/templates/base/{digest}.yaml")] == big.encode()


def test_only_a_stack_whose_upstream_is_not_deployed_deploys_nothing(tmp_path: Path) -> None:
    params, dist = workspace(tmp_path)
    plan = load_plan("dev", params_dir=params, lambdas=["report_fn"], only=["app"])
    fake = FakeCloudFormation()
    s3 = FakeS3({"art"})
    run = Deployer(
        plan,
        Target("123456789012", "us-east-1", "art"),
        stacks=Stacks(fake),
        artifacts=Artifacts(s3, "art", "us-east-1", owner=OWNER, environment="dev"),
        dist=dist,
        out=io.StringIO(),
        confirm=lambda question: True,
    )

    with pytest.raises(ConfigError) as raised:
        run.run(dry_run=False)

    assert str(raised.value) == (
        "--only: app needs the outputs of base (ob-base), which is not deployed: "
        "add --only base or deploy it first"
    )
    assert fake.called("create_change_set") == [] and s3.objects == {}


def artifacts(s3: FakeS3) -> Artifacts:
    return Artifacts(s3, "art", "us-east-1", owner=OWNER, environment="prod")


def test_a_bucket_of_that_name_in_another_account_is_refused() -> None:
    """The default name (opsbundle-artifacts-<account>-<region>) can be taken by anyone
    first: every call names the owner, so a squatted bucket is never written to."""
    s3 = FakeS3({"art"}, owner="999999999999")
    with pytest.raises(ConfigError, match="art exists but belongs to another account"):
        artifacts(s3).ensure(io.StringIO())
    with pytest.raises(ClientError, match="403"):
        artifacts(s3).upload("lambda/report_fn/x.zip", b"zip")
    assert s3.objects == {}


def test_an_unversioned_bucket_is_refused() -> None:
    s3 = FakeS3({"art"})
    s3.versioned = False
    with pytest.raises(ConfigError, match="art is not versioned"):
        artifacts(s3).ensure(io.StringIO())
    with pytest.raises(ConfigError, match=r"did not version prod/lambda/report_fn/x\.zip"):
        artifacts(s3).upload("lambda/report_fn/x.zip", b"zip")


@pytest.mark.parametrize("checksums", [True, False])
def test_a_zip_overwritten_at_its_key_is_uploaded_again_and_the_new_version_pinned(
    checksums: bool,
) -> None:
    """A content-addressed key is no guarantee: someone who may write there can put other
    bytes at it. The version pinned always holds the bytes that were checked."""
    s3 = FakeS3({"art"})
    s3.checksums = checksums
    first = artifacts(s3).upload("lambda/report_fn/abc.zip", b"our zip")
    assert (first.uploaded, first.version, first.key) == (
        True,
        "v1",
        "prod/lambda/report_fn/abc.zip",
    )

    again = artifacts(s3).upload("lambda/report_fn/abc.zip", b"our zip")
    assert (again.uploaded, again.version) == (False, "v1")  # the same bytes: nothing new

    s3.overwrite("prod/lambda/report_fn/abc.zip", b"someone else's zip")
    after = artifacts(s3).upload("lambda/report_fn/abc.zip", b"our zip")
    assert (after.uploaded, after.version) == (True, "v3")
    assert s3.versions[("art", "prod/lambda/report_fn/abc.zip")][-1][1] == b"our zip"


def test_each_environment_writes_under_its_own_prefix() -> None:
    s3 = FakeS3({"art"})
    for environment in ("dev", "prod"):
        Artifacts(s3, "art", "us-east-1", owner=OWNER, environment=environment).upload(
            "lambda/report_fn/abc.zip", b"zip"
        )
    assert sorted(key for _, key in s3.objects) == [
        "dev/lambda/report_fn/abc.zip",
        "prod/lambda/report_fn/abc.zip",
    ]
