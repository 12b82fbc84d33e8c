"""Lambda zips: byte-identical rebuilds, only what Lambda needs, clear failures.

pip never runs here: a fake stands in for it, answering `pip download` with nothing and
`pip install --dry-run --report -` with a report in pip's documented shape
(https://pip.pypa.io/en/stable/reference/installation-report/) that points at small
wheels built in tmp_path.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import zipfile
from collections.abc import Sequence
from pathlib import Path

import pytest

from opsbundle.deployment import packaging
from opsbundle.exceptions import ConfigError, PackagingError

HOST_MARKERS = {**packaging.LAMBDA_MARKERS, "python_version": "3.11", "platform_machine": "x86_64"}


def make_wheel(
    folder: Path, name: str, version: str, files: dict[str, str], requires: Sequence[str] = ()
) -> Path:
    dist_info = f"{name}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    metadata += "".join(f"Requires-Dist: {r}\n" for r in requires)
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel, "w") as archive:
        for arcname, text in files.items():
            archive.writestr(arcname, text)
        archive.writestr(f"{dist_info}/METADATA", metadata)
    return wheel


class FakePip:
    """Answers like pip would, from wheels already in the cache."""

    def __init__(
        self, wheels: dict[Path, Sequence[str]], extras: dict[str, list[str]] | None = None
    ) -> None:
        self.wheels = wheels  # wheel → its Requires-Dist
        self.extras = extras or {}  # name → the extras pyproject.toml asked of it
        self.calls: list[list[str]] = []

    def __call__(self, args: Sequence[str]) -> subprocess.CompletedProcess[str]:
        self.calls.append(list(args))
        if "--dry-run" not in args:
            return subprocess.CompletedProcess(list(args), 0, "", "")
        install = [self.item(wheel, requires) for wheel, requires in self.wheels.items()]
        report = {"version": "1", "install": install, "environment": HOST_MARKERS}
        return subprocess.CompletedProcess(list(args), 0, json.dumps(report), "")

    def item(self, wheel: Path, requires: Sequence[str]) -> dict[str, object]:
        name, version = wheel.name.split("-")[:2]
        item: dict[str, object] = {
            "metadata": {"name": name, "version": version, "requires_dist": list(requires)},
            "download_info": {"url": wheel.as_uri(), "archive_info": {}},
            "is_direct": False,
            "requested": True,
        }
        if name in self.extras:
            item["requested_extras"] = self.extras[name]
        return item


class FailingPip:
    def __init__(self, stderr: str) -> None:
        self.stderr = stderr

    def __call__(self, args: Sequence[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(list(args), 1, "", self.stderr)


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "wheels"


@pytest.fixture
def usual_wheels(cache: Path) -> dict[Path, Sequence[str]]:
    """What pyproject.toml resolves to, in miniature: bundled ones and runtime-provided ones."""
    needs = ["urllib3<3,>=1.21.1", "idna<4,>=2.5"]
    return {
        make_wheel(cache, "requests", "2.32.3", {"requests/__init__.py": ""}, needs): needs,
        make_wheel(cache, "idna", "3.10", {"idna/__init__.py": "# idna\n"}): [],
        make_wheel(cache, "urllib3", "2.8.0", {"urllib3/__init__.py": "# urllib3\n"}): [],
        make_wheel(cache, "jmespath", "1.0.1", {"jmespath/__init__.py": "# jmespath\n"}): [],
        make_wheel(cache, "slack_sdk", "3.33.0", {"slack_sdk/__init__.py": "# slack\n"}): [],
    }  # fmt: skip  # laid out as a table


def zip_tree(tmp_path: Path, files: dict[str, str]) -> list[tuple[str, Path]]:
    entries = []
    for arcname, text in files.items():
        path = tmp_path / "tree" / arcname
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        entries.append((arcname, path))
    return entries


# --- the zip -------------------------------------------------------------------------------


def test_the_same_files_give_the_same_bytes_whatever_their_mtimes_modes_or_order(
    tmp_path: Path,
) -> None:
    entries = zip_tree(
        tmp_path, {"pkg/b.py": "b = 2\n", "pkg/a.py": "a = 1\n" * 500, "pkg/sub/c.py": "c = 3\n"}
    )
    first, second = tmp_path / "first.zip", tmp_path / "second.zip"
    packaging.write_zip(entries, first)

    for number, (_, path) in enumerate(entries):
        os.utime(path, (1_700_000_000 + number * 7919, 1_700_000_000 + number * 7919))
        path.chmod(0o600 if number % 2 else 0o775)
    packaging.write_zip(list(reversed(entries)), second)

    assert first.read_bytes() == second.read_bytes()


def test_entries_are_sorted_plain_files_with_a_fixed_date_and_mode(tmp_path: Path) -> None:
    entries = zip_tree(tmp_path, {"z.py": "", "pkg/b.py": "b\n", "pkg/a.py": "a\n"})
    out = tmp_path / "dist" / "fn.zip"
    packaging.write_zip(entries, out)

    with zipfile.ZipFile(out) as archive:
        infos = archive.infolist()
        assert [i.filename for i in infos] == ["pkg/a.py", "pkg/b.py", "z.py"]
        for info in infos:
            assert not info.is_dir()
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            assert info.external_attr >> 16 == 0o100644
            assert info.create_system == 3
            assert info.compress_type == zipfile.ZIP_DEFLATED
            assert info.extra == b""
        assert archive.read("pkg/b.py") == b"b\n"
    assert not (tmp_path / "dist" / "fn.zip.partial").exists()


def test_two_files_with_one_name_in_the_zip_fail(tmp_path: Path) -> None:
    entries = zip_tree(tmp_path, {"a/six.py": "", "b/six.py": ""})
    clash = [("six.py", path) for _, path in entries]
    with pytest.raises(PackagingError, match=r"six\.py comes from both"):
        packaging.write_zip(clash, tmp_path / "fn.zip")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", (1980, 1, 1, 0, 0, 0)),
        ("1700000000", (2023, 11, 14, 22, 13, 20)),
        ("0", (1980, 1, 1, 0, 0, 0)),  # before 1980: the earliest a zip can say
    ],
)
def test_source_date_epoch_dates_every_entry(value: str, expected: tuple[int, ...]) -> None:
    assert packaging.zip_date_time({"SOURCE_DATE_EPOCH": value}) == expected
    assert packaging.zip_date_time({}) == (1980, 1, 1, 0, 0, 0)


def test_a_malformed_source_date_epoch_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="SOURCE_DATE_EPOCH"):
        packaging.zip_date_time({"SOURCE_DATE_EPOCH": "yesterday"})


def test_code_sha256_is_what_lambda_reports(tmp_path: Path) -> None:
    path = tmp_path / "fn.zip"
    path.write_bytes(b"zip bytes")
    code = packaging.code_sha256(path)
    assert code == base64.b64encode(hashlib.sha256(b"zip bytes").digest()).decode()
    assert len(code) == 44
    assert len(base64.b64decode(code, validate=True)) == 32


def test_sizes_over_lambdas_limits_fail_clearly(tmp_path: Path) -> None:
    entries = zip_tree(tmp_path, {"big.py": "x" * 2048})
    assert packaging.check_unzipped_size(entries, limit=4096) == 2048
    with pytest.raises(PackagingError, match=r"0\.0 MB unzipped is over Lambda's .* limit"):
        packaging.check_unzipped_size(entries, limit=1024)

    packaging.write_zip(entries, tmp_path / "fn.zip")
    with pytest.raises(PackagingError, match=r"fn\.zip is .* over Lambda's .* direct upload"):
        packaging.check_zipped_size(tmp_path / "fn.zip", limit=10)
    assert packaging.MAX_ZIPPED == 50 * 1024 * 1024
    assert packaging.MAX_UNZIPPED == 250 * 1024 * 1024


# --- sources -------------------------------------------------------------------------------


def test_sources_are_python_files_without_caches_or_tests(tmp_path: Path) -> None:
    files = ["fn/__init__.py", "fn/handler.py", "fn/crm/hubspot.py", "fn/__pycache__/x.py",
             "fn/__pycache__/handler.cpython-311.pyc", "fn/tests/test_handler.py",
             "fn/test_fn.py", "fn/conftest.py", "fn/notes.md", "fn/handler.pyc",
             "shared/__init__.py"]  # fmt: skip  # names packed, not one a line
    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")

    entries = packaging.collect_sources([tmp_path / "fn", tmp_path / "shared"])

    assert [arcname for arcname, _ in entries] == [
        "fn/__init__.py",
        "fn/crm/hubspot.py",
        "fn/handler.py",
        "shared/__init__.py",
    ]
    assert entries[0][1] == tmp_path / "fn" / "__init__.py"


def test_a_package_missing_from_disk_is_named(tmp_path: Path) -> None:
    with pytest.raises(PackagingError, match="log_shipper is not a package directory"):
        packaging.collect_sources([tmp_path / "log_shipper"])


def test_the_real_parts_hold_their_sources() -> None:
    for name, spec in packaging.LAMBDAS.items():
        entries = packaging.collect_sources(packaging.PROJECT_ROOT / p for p in spec.packages)
        names = {arcname for arcname, _ in entries}
        assert f"{name}/__init__.py" in names
        assert "opsbundle/__init__.py" in names
        assert not any(n.endswith(".pyc") or "__pycache__" in n for n in names)


# --- dependencies --------------------------------------------------------------------------


def test_runtime_provided_distributions_stay_out_of_the_zip(
    tmp_path: Path, cache: Path, usual_wheels: dict[Path, Sequence[str]]
) -> None:
    pip = FakePip(usual_wheels)
    site = tmp_path / "site"
    requirements = ["boto3>=1.34.0", "requests>=2.32.0", "slack_sdk>=3.33.0"]

    bundled = packaging.install_dependencies(requirements, site, cache, pip=pip)

    assert [d.name for d in bundled] == ["idna", "requests", "slack_sdk"]
    assert sorted(p.name for p in site.iterdir()) == [
        "idna",
        "idna-3.10.dist-info",
        "requests",
        "requests-2.32.3.dist-info",
        "slack_sdk",
        "slack_sdk-3.33.0.dist-info",
    ]
    download, resolve = pip.calls
    assert download[0] == "download" and download[download.index("--dest") + 1] == str(cache)
    assert "--dry-run" in resolve and resolve[resolve.index("--find-links") + 1] == str(cache)
    for call in pip.calls:
        assert call[-2:] == ["requests>=2.32.0", "slack_sdk>=3.33.0"]  # boto3 never asked for
        assert "manylinux2014_aarch64" in call and "manylinux_2_28_aarch64" in call
        assert call[call.index("--python-version") + 1] == "3.12"
        assert "--only-binary=:all:" in call


def test_offline_resolves_from_the_cache_without_downloading(
    tmp_path: Path, cache: Path, usual_wheels: dict[Path, Sequence[str]]
) -> None:
    pip = FakePip(usual_wheels)
    packaging.install_dependencies(["requests"], tmp_path / "site", cache, offline=True, pip=pip)
    assert len(pip.calls) == 1
    assert "--no-index" in pip.calls[0]


def test_the_exclusion_list_is_the_runtimes_sdk_and_its_dependencies() -> None:
    assert set(packaging.RUNTIME_PROVIDED) == {
        "boto3",
        "botocore",
        "s3transfer",
        "jmespath",
        "python-dateutil",
        "six",
        "urllib3",
    }
    assert packaging.is_runtime_provided("Python_Dateutil>=2.8")
    assert packaging.is_runtime_provided("boto3[crt]>=1.34.0")
    assert not packaging.is_runtime_provided("requests>=2.32.0")


def test_a_bundled_dependency_needing_more_than_the_runtime_has_fails(
    tmp_path: Path, cache: Path
) -> None:
    newer = ["urllib3>=3.1"]
    wheel = make_wheel(cache, "requests", "9.0.0", {"requests/__init__.py": ""}, newer)
    with pytest.raises(
        PackagingError, match=r"requests 9\.0\.0 needs urllib3>=3\.1.*RUNTIME_PROVIDED"
    ):
        packaging.install_dependencies(
            ["requests"], tmp_path / "site", cache, pip=FakePip({wheel: newer})
        )
    assert not (tmp_path / "site" / "requests").exists()


def test_pyproject_asking_the_runtime_for_a_newer_boto3_fails(tmp_path: Path, cache: Path) -> None:
    with pytest.raises(PackagingError, match=r"pyproject.toml needs boto3>=99"):
        packaging.install_dependencies(["boto3>=99"], tmp_path / "site", cache, pip=FakePip({}))


def test_a_marker_pip_judged_for_this_machine_instead_of_lambda_fails(
    tmp_path: Path, cache: Path
) -> None:
    requires = [
        'backports-zoneinfo; python_version < "3.12"',
        'win32-setctime; sys_platform == "win32"',
    ]
    wheel = make_wheel(cache, "tzlocal", "5.0", {"tzlocal/__init__.py": ""}, requires)
    with pytest.raises(PackagingError, match=r'this machine, not Lambda.*python_version < "3\.12"'):
        packaging.install_dependencies(
            ["tzlocal"], tmp_path / "site", cache, pip=FakePip({wheel: requires})
        )

    same_everywhere = [('win32-setctime; sys_platform == "win32"', ()), ("slack_sdk", ())]
    assert packaging.host_dependent(same_everywhere, HOST_MARKERS) == []


def test_an_extra_asked_for_in_pyproject_counts_against_the_runtime(
    tmp_path: Path, cache: Path
) -> None:
    requires = ["jmespath<2.0.0,>=1.0.1", "urllib3<3.0.0,>=2.7.0; extra == 'jwt'"]
    wheel = make_wheel(cache, "aws_lambda_powertools", "3.37.0", {"x.py": ""}, requires)
    site = tmp_path / "site"

    plain = FakePip({wheel: requires})
    packaging.install_dependencies(["aws-lambda-powertools"], site / "plain", cache, pip=plain)

    with_jwt = FakePip({wheel: requires}, extras={"aws_lambda_powertools": ["jwt"]})
    with pytest.raises(PackagingError, match=r"powertools 3\.37\.0 needs urllib3<3\.0\.0,>=2\.7"):
        packaging.install_dependencies(
            ["aws-lambda-powertools[jwt]"], site / "jwt", cache, pip=with_jwt
        )


def test_wheels_unpack_like_pip_for_lambda(tmp_path: Path) -> None:
    wheel = make_wheel(
        tmp_path,
        "ext",
        "1.0",
        {
            "ext/__init__.py": "",
            "ext-1.0.data/platlib/ext_native.py": "",
            "ext-1.0.data/purelib/ext_pure.py": "",
            "ext-1.0.data/scripts/ext-cli": "#!python\n",
        },
    )
    site = tmp_path / "site"
    packaging.unpack_wheel(wheel, site)
    assert [e for e, _ in packaging.collect_tree(site)] == [
        "ext-1.0.dist-info/METADATA",
        "ext/__init__.py",
        "ext_native.py",
        "ext_pure.py",
    ]


def test_a_wheel_writing_outside_the_tree_is_refused(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "evil", "1.0", {"../../etc/evil.py": ""})
    with pytest.raises(PackagingError, match="unsafe path"):
        packaging.unpack_wheel(wheel, tmp_path / "site")


# --- the command ---------------------------------------------------------------------------


def test_build_writes_one_zip_and_its_code_sha256_per_lambda(
    tmp_path: Path,
    cache: Path,
    usual_wheels: dict[Path, Sequence[str]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    dist = tmp_path / "dist"
    args = [str(dist), "--wheel-cache", str(cache), "--no-bytecode"]

    assert packaging.main(args, pip=FakePip(usual_wheels)) == 0
    first = (dist / "report_fn.zip").read_bytes()
    assert packaging.main(args, pip=FakePip(usual_wheels)) == 0

    assert (dist / "report_fn.zip").read_bytes() == first
    code = base64.b64encode(hashlib.sha256(first).digest()).decode()
    assert (dist / "report_fn.zip.sha256").read_text() == code + "\n"
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == f"report_fn  {dist / 'report_fn.zip'}  {len(first)} bytes  sha256={code}"
    with zipfile.ZipFile(dist / "report_fn.zip") as archive:
        names = archive.namelist()
    assert "report_fn/handler.py" in names and "opsbundle/slack.py" in names
    assert "requests/__init__.py" in names
    assert not any(n.startswith(("urllib3", "jmespath", "boto3")) for n in names)
    assert not any(n.endswith(".pyc") or "__pycache__" in n for n in names)


def test_no_zip_ships_the_deployment_tooling(
    tmp_path: Path, cache: Path, usual_wheels: dict[Path, Sequence[str]]
) -> None:
    """opsbundle/deployment/ (packaging, stacks, change sets, deploy, cost) runs on a laptop or
    in CodeBuild: every Lambda's zip has the rest of opsbundle/ and none of it."""
    dist = tmp_path / "dist"
    args = [str(dist), "--wheel-cache", str(cache), "--no-bytecode"]
    assert packaging.main(args, pip=FakePip(usual_wheels)) == 0
    tooling = {
        f"opsbundle/deployment/{path.name}"
        for path in (packaging.PROJECT_ROOT / "opsbundle" / "deployment").glob("*.py")
    }
    assert {"opsbundle/deployment/packaging.py", "opsbundle/deployment/deploy.py"} <= tooling
    for name in packaging.LAMBDAS:
        with zipfile.ZipFile(dist / f"{name}.zip") as archive:
            names = set(archive.namelist())
        assert {"opsbundle/__init__.py", "opsbundle/settings.py", "opsbundle/cli.py"} <= names
        assert not {n for n in names if n.startswith(packaging.BUILD_ONLY)}, name


def test_a_pip_failure_names_the_dependency(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stderr = (
        "ERROR: Could not find a version that satisfies the requirement slack_sdk>=99 "
        "(from versions: 3.33.0)\nERROR: No matching distribution found for slack_sdk>=99\n"
    )
    code = packaging.main([str(tmp_path / "dist")], pip=FailingPip(stderr))
    err = capsys.readouterr().err
    assert code == 1
    assert "pip download failed for dependency slack_sdk>=99" in err
    assert "No matching distribution found" in err
    assert not (tmp_path / "dist" / "report_fn.zip").exists()


def test_offline_with_a_cold_cache_says_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stderr = "ERROR: No matching distribution found for tzdata>=2024.1\n"
    assert packaging.main([str(tmp_path), "--offline"], pip=FailingPip(stderr)) == 1
    assert "build once without --offline" in capsys.readouterr().err


@pytest.mark.parametrize("args", [[], ["dist", "--only", "no_such_fn"], ["dist", "--offline=yes"]])
def test_bad_usage_exits_2(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert packaging.main(args, pip=FailingPip("pip must not run")) == 2
    assert "usage:" in capsys.readouterr().err


def test_a_bad_source_date_epoch_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "soon")
    assert packaging.main([str(tmp_path)], pip=FailingPip("pip must not run")) == 2
    assert "SOURCE_DATE_EPOCH" in capsys.readouterr().err


def test_each_lambda_gets_only_the_dependencies_it_imports() -> None:
    # fmt: skip below: names packed, not one a line
    requirements = [
        "aws-lambda-powertools>=3",
        "opensearch-py>=2.6",
        "Slack_SDK>=3.33",
        "requests>=2.32",
        "tzdata>=2024.1",
        "tqdm>=4",
        "jsonschema>=4.18",
        "Pillow>=10.1",
        "PyYAML>=6",
        "prometheus-client>=0.20",
    ]
    chosen = packaging.lambda_requirements("report_fn", requirements)
    assert chosen == [
        "aws-lambda-powertools>=3",
        "Slack_SDK>=3.33",
        "requests>=2.32",
        "tzdata>=2024.1",
        "jsonschema>=4.18",
        "Pillow>=10.1",
        "PyYAML>=6",
        "prometheus-client>=0.20",
    ]
    with pytest.raises(PackagingError, match="requires slack-sdk"):
        packaging.lambda_requirements(
            "report_fn",
            [
                "aws-lambda-powertools",
                "requests",
                "tzdata",
                "prometheus-client",
                "jsonschema",
                "pillow",
                "pyyaml",
            ],
        )


def test_what_a_lambda_never_imports_is_left_out(
    tmp_path: Path, cache: Path, usual_wheels: dict[Path, Sequence[str]]
) -> None:
    """opensearch-py requires opensearch-protobufs (grpcio, protobuf) for a transport the log
    shipper never uses: 19 MB unpacked, not shipped."""
    wheels = {**usual_wheels, make_wheel(cache, "grpcio", "1.85.3", {"grpc/__init__.py": ""}): []}
    site = tmp_path / "site"
    requirements = ["requests>=2.32.0", "slack_sdk>=3.33.0"]
    bundled = packaging.install_dependencies(
        requirements, site, cache, pip=FakePip(wheels), omits=("GRPCio",)
    )
    assert "grpcio" not in [d.name for d in bundled] and not (site / "grpc").exists()
    assert packaging.LAMBDAS["log_shipper"].omits == ("opensearch-protobufs", "grpcio", "protobuf")


@pytest.mark.skipif(packaging.find_python312() is None, reason="no python3.12 on this machine")
def test_each_module_ships_with_its_python312_bytecode(tmp_path: Path) -> None:
    """Lambda's task folder is read-only: without bytecode every cold start compiles. The
    bytecode is reproducible (an unchecked hash, no timestamp) and names /var/task/... ."""
    python = packaging.find_python312()
    assert python is not None
    entries = zip_tree(
        tmp_path,
        {"pkg/__init__.py": "", "pkg/mod.py": "def f():\n    return 1\n", "pkg/data.json": "{}"},
    )
    first = packaging.compile_bytecode(entries, python, tmp_path / "one")
    again = packaging.compile_bytecode(entries, python, tmp_path / "two")
    assert [name for name, _ in first] == [
        "pkg/__pycache__/__init__.cpython-312.pyc",
        "pkg/__pycache__/mod.cpython-312.pyc",
    ]
    assert [p.read_bytes() for _, p in first] == [p.read_bytes() for _, p in again]
    header = first[1][1].read_bytes()[:16]
    assert int.from_bytes(header[4:8], "little") == 0b01  # PEP 552: hash-based, unchecked
    shown = subprocess.run(  # noqa: S603
        [
            python,
            "-c",
            "import marshal, sys; print(marshal.loads(open(sys.argv[1], 'rb')"
            ".read()[16:]).co_filename)",
            str(first[1][1]),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert shown == "/var/task/pkg/mod.py"
