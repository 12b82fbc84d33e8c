"""`opsbundle deploy --env <env>`: every stack of an environment, one change set at a time.

For each stack, in dependency order: resolve its parameters (outputs of the stacks before
it, the S3 keys of its Lambda zips), create a change set, print what it would change, ask
(unless --yes), execute, wait with progress, keep its outputs for the next stack. --dry-run
stops after printing and deletes the change sets it made. Anything that can be checked
without executing (the parameter file, credentials, every stack's state, the zips) is
checked before the first change set runs, so a bad input deploys nothing; a stack that
fails while executing stops the run, and the error says which stacks were deployed and
which were not.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import time
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from botocore.exceptions import BotoCoreError, ClientError

from opsbundle import aws
from opsbundle.deployment import report_stack
from opsbundle.deployment.changesets import ChangeSet, Stacks, render_diff
from opsbundle.deployment.stacks import Context, Plan, StackSpec, load_template, resolve
from opsbundle.exceptions import ConfigError, DeployError
from opsbundle.progress import Progress
from report_fn import reports_file

TEMPLATE_BODY_LIMIT = 51_200  # bytes; larger templates go through S3 (TemplateURL)
Confirm = Callable[[str], bool]


@dataclass(frozen=True)
class Target:
    """Where the deploy goes: the caller's account and region."""

    account: str
    region: str
    artifact_bucket: str


@dataclass
class DeployOutcome:
    deployed: list[str] = field(default_factory=list)  # executed
    unchanged: list[str] = field(default_factory=list)  # empty change sets
    reviewed: list[str] = field(default_factory=list)  # dry run: printed, not executed
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)


def default_bucket(account: str, region: str) -> str:
    return f"opsbundle-artifacts-{account}-{region}"


# --- the artifacts bucket and what goes in it ---------------------------------------------


@dataclass(frozen=True)
class Stored:
    """An object in the artifacts bucket: its key, and the version the stacks are pinned to."""

    key: str
    version: str
    uploaded: bool  # False: the same bytes were there already (that version is used)


class Artifacts:
    """The artifacts bucket: created if missing (private, versioned, encrypted, TLS 1.2+).

    Every call names the account that must own the bucket (ExpectedBucketOwner): a bucket of
    that name in another account (squatted, or a typo) is refused, never written to or read
    from. Each environment writes under its own prefix (`<env>/lambda/...`), so a pipeline's
    build role can be allowed its own environment's keys only, and every object is pinned by
    version: what a stack deploys is the version uploaded and checked here, whatever is
    written at that key later."""

    def __init__(self, s3: Any, bucket: str, region: str, *, owner: str, environment: str) -> None:
        self._s3 = s3
        self.bucket = bucket
        self._region = region
        self._owner = owner
        self.prefix = f"{environment}/"

    def ensure(self, out: TextIO) -> None:
        try:
            self._s3.head_bucket(Bucket=self.bucket, ExpectedBucketOwner=self._owner)
        except ClientError as error:
            code = aws.error_code(error)
            if code == "403":
                raise ConfigError(
                    "artifact_bucket",
                    f"{self.bucket} exists but belongs to another account or denies you; "
                    "name another in the parameter file",
                ) from None
            if code not in ("404", "NoSuchBucket"):
                raise
            self._create(out)
            return
        versioning = self._s3.get_bucket_versioning(
            Bucket=self.bucket, ExpectedBucketOwner=self._owner
        )
        if versioning.get("Status") != "Enabled":
            raise ConfigError(
                "artifact_bucket",
                f"{self.bucket} is not versioned: turn versioning on (aws s3api "
                "put-bucket-versioning), so that every stack is pinned to the zip it was "
                "given",
            )

    def _create(self, out: TextIO) -> None:
        print(f"creating artifacts bucket {self.bucket}", file=out)
        create: dict[str, Any] = {"Bucket": self.bucket}
        if self._region != "us-east-1":
            create["CreateBucketConfiguration"] = {"LocationConstraint": self._region}
        try:
            self._s3.create_bucket(**create)
        except ClientError as error:
            if aws.error_code(error) == "BucketAlreadyExists":
                raise ConfigError(
                    "artifact_bucket",
                    f"{self.bucket} was just created by another account; name another in "
                    "the parameter file",
                ) from None
            raise
        owner = {"ExpectedBucketOwner": self._owner}
        self._s3.put_public_access_block(
            Bucket=self.bucket,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
            **owner,
        )
        self._s3.put_bucket_versioning(
            Bucket=self.bucket, VersioningConfiguration={"Status": "Enabled"}, **owner
        )
        self._s3.put_bucket_encryption(
            Bucket=self.bucket,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
            **owner,
        )
        self._s3.put_bucket_lifecycle_configuration(
            Bucket=self.bucket,
            LifecycleConfiguration={
                "Rules": [
                    {
                        "ID": "old-artifacts",
                        "Status": "Enabled",
                        "Filter": {"Prefix": ""},
                        "NoncurrentVersionExpiration": {"NoncurrentDays": 90},
                        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
                    }
                ]
            },
            **owner,
        )
        arn = f"arn:aws:s3:::{self.bucket}"
        self._s3.put_bucket_policy(
            Bucket=self.bucket,
            Policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "DenyInsecureTransport",
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "s3:*",
                            "Resource": [arn, f"{arn}/*"],
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        },
                        {
                            "Sid": "DenyTlsOlderThan12",
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "s3:*",
                            "Resource": [arn, f"{arn}/*"],
                            "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.2"}},
                        },
                    ],
                }
            ),
            **owner,
        )

    def upload(
        self, key: str, body: bytes, *, on_sent: Callable[[int], None] | None = None
    ) -> Stored:
        """`body` at this environment's `key`, and the version that holds exactly these bytes:
        the current one when it does (S3's own SHA-256, or the bytes themselves when the
        object has no checksum), else a new upload, checked by S3 against our SHA-256.
        `on_sent` is told how many bytes have gone (fewer again when a retry starts over)."""
        full = self.prefix + key
        digest = hashlib.sha256(body).digest()
        checksum = base64.b64encode(digest).decode("ascii")
        owner = {"ExpectedBucketOwner": self._owner}
        try:
            head = self._s3.head_object(
                Bucket=self.bucket, Key=full, ChecksumMode="ENABLED", **owner
            )
        except ClientError as error:
            if aws.error_code(error) not in (
                "404",
                "NoSuchKey",
                "NotFound",
            ):
                raise
            head = None
        if head is not None and self._same(full, head, checksum, digest):
            return Stored(full, str(head["VersionId"]), uploaded=False)
        sent: Any = _Reading(body, on_sent) if on_sent else body
        put = self._s3.put_object(
            Bucket=self.bucket, Key=full, Body=sent, ChecksumSHA256=checksum, **owner
        )
        version = put.get("VersionId")
        if not version or version == "null":
            raise ConfigError(
                "artifact_bucket", f"{self.bucket} did not version {full}: turn versioning on"
            )
        return Stored(full, str(version), uploaded=True)

    def _same(self, key: str, head: Mapping[str, Any], checksum: str, digest: bytes) -> bool:
        version = head.get("VersionId")
        if not version or version == "null":
            return False
        if head.get("ChecksumSHA256"):
            return bool(head["ChecksumSHA256"] == checksum)
        stored = self._s3.get_object(
            Bucket=self.bucket, Key=key, VersionId=version, ExpectedBucketOwner=self._owner
        )["Body"].read()
        return hashlib.sha256(stored).digest() == digest

    def url(self, stored: Stored) -> str:
        return (
            f"https://{self.bucket}.s3.{self._region}.amazonaws.com/{stored.key}"
            f"?versionId={stored.version}"
        )


class _Reading(io.BytesIO):
    """The bytes of an upload, saying how far the HTTP client has read them."""

    def __init__(self, body: bytes, on_position: Callable[[int], None]) -> None:
        super().__init__(body)
        self._on_position = on_position

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self._on_position(self.tell())
        return chunk


def package_key(name: str, dist: Path) -> tuple[str, bytes]:
    """(S3 key, zip bytes) for a built Lambda; the key is its content address."""
    path, sidecar = dist / f"{name}.zip", dist / f"{name}.zip.sha256"
    if not path.is_file() or not sidecar.is_file():
        raise ConfigError(str(path), "is not built: run make package (or opsbundle deploy --build)")
    body = path.read_bytes()
    digest = hashlib.sha256(body).digest()
    if base64.b64encode(digest).decode("ascii") != sidecar.read_text(encoding="ascii").strip():
        raise ConfigError(str(sidecar), "does not match the zip next to it: run make package again")
    return f"lambda/{name}/{digest.hex()}.zip", body


def template_body(spec: StackSpec) -> bytes:
    """The template as deployed: the file, or the report template rendered from the reports
    file (one schedule per report, opsbundle.deployment.report_stack)."""
    if spec.reports is None:
        return spec.template.read_bytes()
    rendered = report_stack.render(load_template(spec.template), reports_file.load(spec.reports))
    return (json.dumps(rendered, indent=1) + "\n").encode("utf-8")


def template_source(spec: StackSpec, artifacts: Artifacts) -> tuple[str | None, str | None]:
    """(TemplateBody, TemplateURL): the body when it fits, else an S3 URL (version pinned)."""
    body = template_body(spec)
    if len(body) <= TEMPLATE_BODY_LIMIT:
        return body.decode("utf-8"), None
    key = f"templates/{spec.name}/{hashlib.sha256(body).hexdigest()}.yaml"
    return None, artifacts.url(artifacts.upload(key, body))


# --- the run ---------------------------------------------------------------------------------


class Deployer:
    """Deploys one plan through one region's CloudFormation and S3."""

    def __init__(
        self,
        plan: Plan,
        target: Target,
        *,
        stacks: Stacks,
        artifacts: Artifacts,
        dist: Path,
        out: TextIO,
        confirm: Confirm,
        clock: Callable[[], float] = time.time,
        progress: Progress | None = None,
    ) -> None:
        """`progress`: bars for the uploads and the change sets' creation, on a terminal."""
        self._plan = plan
        self._progress = progress or Progress.off()
        self._target = target
        self._stacks = stacks
        self._artifacts = artifacts
        self._dist = dist
        self._out = out
        self._confirm = confirm
        self._clock = clock

    def preflight(self, *, dry_run: bool = False) -> None:
        """Everything that can stop a deploy before anything changes."""
        selected = {spec.name for spec in self._plan.stacks}
        for spec in self._plan.stacks:
            self._stacks.change_set_kind(spec.stack_name)  # raises for a blocked stack
            for need in spec.needs:
                upstream = self._plan.all_stacks[need].stack_name
                if dry_run or need in selected:
                    continue
                if self._stacks.status(upstream) in (None, "REVIEW_IN_PROGRESS"):
                    raise ConfigError(
                        "--only",
                        f"{spec.name} needs the outputs of {need} ({upstream}), which is not "
                        f"deployed: add --only {need} or deploy it first",
                    ) from None
        for name in self._plan.packages():
            package_key(name, self._dist)
        for spec in self._plan.stacks:
            if spec.reports is not None:
                _check_reports_in_zip(spec.reports, self._dist / "report_fn.zip")

    def context(
        self, outputs: Mapping[str, Mapping[str, str]], packages: Mapping[str, Stored]
    ) -> Context:
        return Context(
            environment=self._plan.environment,
            stack_prefix=self._plan.stack_prefix,
            region=self._target.region,
            account=self._target.account,
            artifact_bucket=self._artifacts.bucket,
            package_keys={name: stored.key for name, stored in packages.items()},
            package_versions={name: stored.version for name, stored in packages.items()},
            outputs=outputs,
        )

    def upload_packages(self) -> dict[str, Stored]:
        stored = {}
        for name in self._plan.packages():
            key, body = package_key(name, self._dist)
            with self._progress.bar(
                f"{name}.zip", total=len(body), unit="B", unit_scale=True
            ) as bar:
                stored[name] = self._artifacts.upload(
                    key, body, on_sent=bar.set if bar.shown else None
                )
            print(
                f"{name}: {'uploaded' if stored[name].uploaded else 'unchanged'} "
                f"s3://{self._artifacts.bucket}/{stored[name].key} "
                f"(version {stored[name].version})",
                file=self._out,
            )
        return stored

    def deployed_outputs(self) -> dict[str, dict[str, str]]:
        """Outputs of every stack of the environment that exists now (selected or not)."""
        found = {}
        for name, spec in self._plan.all_stacks.items():
            if self._stacks.status(spec.stack_name) not in (None, "REVIEW_IN_PROGRESS"):
                found[name] = self._stacks.outputs(spec.stack_name)
        return found

    def run(self, *, dry_run: bool) -> DeployOutcome:
        self.preflight(dry_run=dry_run)
        self._artifacts.ensure(self._out)
        packages = self.upload_packages()
        outputs = self.deployed_outputs()
        outcome = DeployOutcome()
        for index, spec in enumerate(self._plan.stacks):
            if dry_run and any(need not in outputs for need in spec.needs):
                waiting = [need for need in spec.needs if need not in outputs]
                print(
                    f"{spec.stack_name}: change set not made: it needs the outputs of "
                    f"{', '.join(waiting)}, not deployed yet",
                    file=self._out,
                )
                continue
            try:
                parameters = resolve(spec, self.context(outputs, packages))
                change_set = self._change_set(spec, parameters)
            except (DeployError, ConfigError) as error:
                raise type(error)(*_args(error, self._stopped(outcome, index))) from None
            except (BotoCoreError, ClientError) as error:  # expired SSO, throttling, ...
                raise DeployError(
                    f"{spec.stack_name}: {error}; {self._stopped(outcome, index)}"
                ) from None
            for line in render_diff(change_set):
                print(line, file=self._out)
            if change_set.empty:
                self._stacks.discard(change_set)
                outcome.unchanged.append(spec.name)
                continue
            if dry_run:
                self._stacks.discard(change_set)
                outcome.reviewed.append(spec.name)
                continue
            if not self._confirm(f"Execute this change set on {spec.stack_name}? [y/N] "):
                self._stacks.discard(change_set)
                raise DeployError(
                    f"you declined {spec.stack_name}; {self._stopped(outcome, index)}"
                )
            print(f"{spec.stack_name}: executing", file=self._out)
            try:
                result = self._stacks.execute(
                    change_set, progress=lambda line: print(line, file=self._out)
                )
            except (DeployError, BotoCoreError, ClientError) as error:
                raise DeployError(
                    f"{error}; {self._stopped(outcome, index, failed=True)}"
                ) from None
            except KeyboardInterrupt:
                done = ", ".join(outcome.deployed + outcome.unchanged) or "none"
                rest = ", ".join(s.name for s in self._plan.stacks[index + 1 :]) or "none"
                raise DeployError(
                    f"interrupted while {spec.stack_name} was executing; CloudFormation "
                    f"carries on with it (watch its events); deployed: {done}; "
                    f"not started: {rest}"
                ) from None
            outputs[spec.name] = result
            outcome.outputs[spec.name] = result
            outcome.deployed.append(spec.name)
            print(f"{spec.stack_name}: done", file=self._out)
        for name in outcome.unchanged:
            outcome.outputs.setdefault(name, outputs.get(name, {}))
        return outcome

    def _change_set(self, spec: StackSpec, parameters: Mapping[str, str]) -> ChangeSet:
        body, url = template_source(spec, self._artifacts)
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(self._clock()))
        with self._progress.status(f"{spec.stack_name}: creating the change set") as bar:

            def waited(status: str, seconds: float) -> None:
                bar.describe(f"{status} after {seconds:.0f} s")

            return self._stacks.create_change_set(
                spec.stack_name,
                name=f"opsbundle-{stamp}",
                template_body=body,
                template_url=url,
                parameters=parameters,
                capabilities=spec.capabilities,
                tags={**self._plan.tags, "opsbundle:environment": self._plan.environment},
                description=f"opsbundle deploy --env {self._plan.environment} ({spec.name})",
                on_wait=waited,
            )  # fmt: skip - the change set's arguments, packed

    def _stopped(self, outcome: DeployOutcome, index: int, *, failed: bool = False) -> str:
        """Where the run stopped: what is deployed, what failed, what was not started."""
        done = ", ".join(outcome.deployed + outcome.unchanged) or "none"
        names = [s.name for s in self._plan.stacks]
        if failed:
            rest = ", ".join(names[index + 1 :]) or "none"
            return f"deployed: {done}; failed: {names[index]}; not started: {rest}"
        return f"deployed: {done}; not deployed: {', '.join(names[index:])}"

    def template_configurations(self, directory: Path) -> list[Path]:
        """CodePipeline template configuration files, one per stack, parameters resolved.

        References to other stacks' outputs are read from the stacks deployed now, so the
        pipeline needs the environment bootstrapped once with `opsbundle deploy`.
        """
        self._artifacts.ensure(self._out)
        packages = self.upload_packages()
        context = self.context(self.deployed_outputs(), packages)
        directory.mkdir(parents=True, exist_ok=True)
        written = []
        for spec in self._plan.stacks:
            document = {
                "Parameters": resolve(spec, context),
                "Tags": {**self._plan.tags, "opsbundle:environment": self._plan.environment},
            }
            path = directory / f"{spec.name}.json"
            path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")
            written.append(path)
            if report_stack.renders(spec.template):
                # The pipeline deploys the report stack from here: rendered from the reports
                # file when there is one, else the committed template as it is.
                path = directory / f"{spec.name}.template.json"
                body = (
                    template_body(spec)
                    if spec.reports
                    else (json.dumps(load_template(spec.template), indent=1) + "\n").encode("utf-8")
                )
                path.write_bytes(body)
                written.append(path)
        return written


def _check_reports_in_zip(reports: Path, zip_path: Path) -> None:
    """The function must read the reports file its schedules were rendered from."""
    with zipfile.ZipFile(zip_path) as archive:
        try:
            shipped = archive.read(report_stack.REPORTS_FILE)
        except KeyError:
            shipped = None
    if shipped is None:
        raise ConfigError(
            str(zip_path),
            f"has no reports.yml, but the stack is rendered from {reports}: run make package again",
        )
    if shipped != reports.read_bytes():
        raise ConfigError(
            str(zip_path), f"carries another reports.yml than {reports}: run make package again"
        )


def _args(error: Exception, stopped: str) -> tuple[str, ...]:
    if isinstance(error, ConfigError):
        return (error.setting, f"{error.problem}; {stopped}")
    return (f"{error}; {stopped}",)
