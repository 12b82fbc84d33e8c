"""One deployment zip per Lambda, for AWS Lambda python3.12 on arm64: `make package`.

    python -m opsbundle.packaging DIST_DIR [--only NAME] [--wheel-cache DIR] [--offline]

Each `DIST_DIR/<name>.zip` holds the part's package and the shared `opsbundle/` package
(source `.py` files only: no `__pycache__`, no tests) plus the runtime dependencies from
pyproject.toml's `[project].dependencies`, as wheels for manylinux aarch64 / CPython 3.12,
and the project-root files a Lambda lists as `data` when they exist (report_fn: reports.yml).
Next to it, `<name>.zip.sha256` holds base64(sha256(zip)), the form Lambda reports as
`CodeSha256`, so deploy tooling can skip functions whose code did not change.

Reproducible: the same sources and wheels give byte-identical zips on any machine. Entries
are sorted, dated 1980-01-01 00:00 (or SOURCE_DATE_EPOCH), mode 0o644 (nothing here is run
as a program), Unix create_system, no directory entries, no extra fields, deflate level 9.
Wheels are unpacked here rather than by `pip install --target`, which writes console scripts
whose shebang and RECORD hash carry the build machine's interpreter path.

Dependencies come from `pip download` into a wheel cache (`.cache/wheels/`), so a second
build downloads nothing; `--offline` resolves from that cache alone. The exact set is
then resolved from the cache (`pip install --dry-run --report`). Unpinned requirements
follow PyPI: a new release of a dependency changes the zip, as it should.

What the runtime already has is left out (RUNTIME_PROVIDED): boto3, botocore, s3transfer,
jmespath, python-dateutil, six and urllib3. urllib3 is left out on purpose, though requests
needs it. Lambda puts /var/task ahead of /var/runtime on sys.path, so a bundled urllib3 is
not private to requests: the runtime's botocore imports it too, pairing AWS's botocore with
a urllib3 that AWS never tested it with. pip checks that pairing against the newest botocore
on PyPI, not the runtime's; this is how bundled urllib3 2.0 (DEFAULT_CIPHERS) and 2.2.0
broke Lambdas whose own code never touched urllib3. Left out, there is one urllib3 in the
process, the one AWS ships with its botocore (1.26 or later on python3.12, an assumption
recorded in RUNTIME_PROVIDED), and requests accepts that range (it declares
urllib3>=1.26,<3). The risk that remains, a requests release (or an extra such as
`aws-lambda-powertools[jwt]`) needing a newer urllib3 than the runtime's, is checked: the
build fails when a bundled distribution (or pyproject.toml) asks for a runtime-provided one
at a version that excludes the oldest we count on (the values in RUNTIME_PROVIDED). Then either
confirm the runtime's version (AWS docs, "Runtime-included SDK versions") and raise the
value, or remove urllib3 from RUNTIME_PROVIDED to bundle it.

The log shipper is such a case: opensearch-py needs urllib3>=1.26.19, above the 1.26.0 we
count on. Rather than raise the floor for every Lambda on a guess, or bundle urllib3 alone
(the pairing with the runtime's botocore warned about above), a Lambda may list runtime
distributions it `bundles` anyway. The log shipper bundles urllib3 together with boto3,
botocore and s3transfer, so pip resolves one consistent set (a botocore that accepts that
urllib3) and the runtime's copies are shadowed as a whole; jmespath, python-dateutil and six
stay the runtime's, checked against the bundled botocore's ranges as above. It costs about
15 MB zipped; the other Lambdas keep the runtime's SDK.

A Lambda may also `omit` distributions pip resolves that it never imports: opensearch-py 3.x
requires opensearch-protobufs, and through it grpcio and protobuf (19 MB unpacked, for its
gRPC transport), which the log shipper, speaking HTTP, never loads. The zip import test
(tests/integration/deploy/test_packages_import.py) imports every handler from the unpacked
zip, so an omission that a handler did need fails the build's tests, not a cold start.

Finer still, a Lambda may `prune` files of a distribution it ships but never loads. Pillow
(the report's chart) carries a shared library per image format; the chart writes PNG with
FreeType text, so the AVIF, WebP and colour-management extensions and their libraries (2.4 MB
zipped, 7.1 MB unpacked; `readelf -d` shows nothing else links them) stay out. Pillow imports
a format's plugin only when that format is used, and treats a missing one as unsupported. A
test draws the chart with a Pillow pruned the same way (test_packages_import.py).

Each .py file is shipped with its bytecode for CPython 3.12 (`__pycache__/*.cpython-312.pyc`,
compiled by a python3.12 found on this machine). Lambda's task folder is read-only, so without
them every cold start compiles every module it imports: for the log shipper, 5.2 billion
instructions instead of 1.3 (callgrind, `import log_shipper.handler`). The bytecode is made
with unchecked hashes (no timestamps) and names /var/task/... as its source, so the same
sources, wheels and python3.12 give the same bytes. Without a python3.12 (set
OPSBUNDLE_PYTHON312 to one), or with --no-bytecode, the zips hold sources only, and say so.

pip evaluates environment markers (`; python_version < "3.12"`) for the machine it runs on,
not for Lambda; the build fails, naming the requirement, when a marker would come out
differently on Lambda, rather than ship the build machine's answer.

Lambda's limits are checked: 50 MB zipped (direct upload), 250 MB unzipped.
Exit status: 0 built, 1 the build failed (pip failures name the dependency), 2 bad usage.
"""

from __future__ import annotations

import argparse
import base64
import fnmatch
import hashlib
import itertools
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import tomllib
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlparse
from urllib.request import url2pathname

from packaging.requirements import InvalidRequirement, Requirement

from opsbundle.exceptions import ConfigError, OpsbundleError, PackagingError


@dataclass(frozen=True)
class Lambda:
    packages: tuple[str, ...]  # folders at the project root that the zip holds
    requires: tuple[str, ...]  # names of pyproject dependencies it imports at run time
    bundles: tuple[str, ...] = ()  # runtime-provided distributions it ships anyway (see above)
    omits: tuple[str, ...] = ()  # required by a dependency, never imported by the function
    data: tuple[str, ...] = ()  # files at the project root it ships when they exist
    prunes: tuple[str, ...] = ()  # files of shipped distributions it never loads (zip paths)

    def runtime_provided(self) -> dict[str, str]:
        """RUNTIME_PROVIDED less what this Lambda bundles itself."""
        shipped = {canonical_name(name) for name in self.bundles}
        return {name: v for name, v in RUNTIME_PROVIDED.items() if name not in shipped}


# Pillow's extensions for formats the chart never reads or writes, and the libraries only they
# link (readelf -d: _imaging and _imagingft need none of these).
PILLOW_UNUSED = (
    "PIL/_avif.*.so", "pillow.libs/libavif-*",
    "PIL/_webp.*.so", "pillow.libs/libwebp*", "pillow.libs/libsharpyuv-*",
    "PIL/_imagingcms.*.so", "pillow.libs/liblcms2-*",
)  # fmt: skip  # names packed, not one a line

LAMBDAS: dict[str, Lambda] = {
    "report_fn": Lambda(
        packages=("report_fn", "opsbundle"),
        requires=(
            "aws-lambda-powertools",
            "jsonschema",
            "pillow",
            "prometheus-client",
            "pyyaml",
            "requests",
            "slack-sdk",
            "tzdata",
        ),
        data=("reports.yml",),  # the reports file (REPORTS_FILE=reports.yml in the stack)
        prunes=PILLOW_UNUSED,  # the chart is PNG with FreeType text (see above)
    ),
    "monitors": Lambda(
        packages=("monitors", "opsbundle"),
        requires=("aws-lambda-powertools", "prometheus-client", "slack-sdk"),
    ),
    "audit": Lambda(
        packages=("audit", "opsbundle"),
        requires=("aws-lambda-powertools", "prometheus-client", "slack-sdk"),
    ),
    "log_shipper": Lambda(
        packages=("log_shipper", "opsbundle"),
        requires=("aws-lambda-powertools", "boto3", "opensearch-py", "orjson", "prometheus-client"),
        bundles=("boto3", "botocore", "s3transfer", "urllib3"),  # opensearch-py: urllib3>=1.26.19
        omits=("opensearch-protobufs", "grpcio", "protobuf"),  # opensearch-py's gRPC transport
    ),
}

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_WHEEL_CACHE = PROJECT_ROOT / ".cache" / "wheels"

# The Lambda platform, for pip: python3.12 on arm64 (Amazon Linux 2023, glibc 2.34).
PIP_PLATFORM = (
    "--platform", "manylinux2014_aarch64",
    "--platform", "manylinux_2_28_aarch64",
    "--implementation", "cp",
    "--python-version", "3.12",
    "--only-binary=:all:",
)  # fmt: skip  # names packed, not one a line
# The same platform as environment markers see it.
LAMBDA_MARKERS: dict[str, str] = {
    "implementation_name": "cpython",
    "implementation_version": "3.12.0",
    "os_name": "posix",
    "platform_machine": "aarch64",
    "platform_python_implementation": "CPython",
    "platform_release": "",
    "platform_system": "Linux",
    "platform_version": "",
    "python_full_version": "3.12.0",
    "python_version": "3.12",
    "sys_platform": "linux",
}

# In the python3.12 runtime already: distribution → the oldest version we count on it having.
# boto3/botocore: the floor pyproject.toml asks for; the rest: what that boto3 line came with.
RUNTIME_PROVIDED: dict[str, str] = {
    "boto3": "1.34.0",
    "botocore": "1.34.0",
    "s3transfer": "0.9.0",
    "jmespath": "1.0.1",
    "python-dateutil": "2.8.2",
    "six": "1.16.0",
    "urllib3": "1.26.0",
}

MAX_ZIPPED = 50 * 1024 * 1024  # direct upload
MAX_UNZIPPED = 250 * 1024 * 1024  # function code and layers, unzipped
SOURCE_DATE_EPOCH = "SOURCE_DATE_EPOCH"
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip can hold
COMPRESS_LEVEL = 9
FILE_MODE = stat.S_IFREG | 0o644
UNIX = 3  # ZipInfo.create_system
SKIPPED_DIRS = frozenset({"__pycache__", "tests", "test"})
# Modules that build or deploy the zips and never run inside one.
BUILD_ONLY = frozenset({
    "opsbundle/packaging.py", "opsbundle/deploy.py", "opsbundle/deploy_cli.py",
    "opsbundle/stacks.py", "opsbundle/changesets.py", "opsbundle/cost.py",
    "opsbundle/iam_policies.py",
    "opsbundle/report_stack.py",
})  # fmt: skip  # names packed, not one a line

Entry = tuple[str, Path]  # (name in the zip, file on disk)
Pip = Callable[[Sequence[str]], subprocess.CompletedProcess[str]]


@dataclass(frozen=True)
class Resolved:
    """One distribution pip resolved for Lambda, with the cached wheel it comes from."""

    name: str
    version: str
    wheel: Path
    requires: tuple[str, ...] = ()  # its Requires-Dist
    extras: tuple[str, ...] = ()  # the extras pyproject.toml asked of it


@dataclass(frozen=True)
class Built:
    name: str
    path: Path
    size: int
    sha256: str


# --- sources -------------------------------------------------------------------------------


def collect_sources(package_dirs: Iterable[Path]) -> list[Entry]:
    """Every .py file of each package, named from the package's parent; no caches, no tests."""
    entries: list[Entry] = []
    for package in package_dirs:
        if not package.is_dir():
            raise PackagingError(f"{package} is not a package directory (see LAMBDAS)")
        for path in package.rglob("*.py"):
            relative = path.relative_to(package.parent)
            if SKIPPED_DIRS.intersection(relative.parts[:-1]) or _is_test_file(path.name):
                continue
            entries.append((relative.as_posix(), path))
    return sorted(entries)


def collect_tree(root: Path) -> list[Entry]:
    """Every file under an unpacked site-packages, except bytecode caches."""
    return sorted(
        (path.relative_to(root).as_posix(), path)
        for path in root.rglob("*")
        if path.is_file()
        and path.suffix != ".pyc"
        and "__pycache__" not in path.relative_to(root).parts
    )


def _is_test_file(name: str) -> bool:
    return name == "conftest.py" or name.startswith("test_") or name.endswith("_test.py")


# --- the zip -------------------------------------------------------------------------------


def zip_date_time(environ: Mapping[str, str]) -> tuple[int, int, int, int, int, int]:
    """1980-01-01 00:00:00, or SOURCE_DATE_EPOCH (UTC) when set; a zip can't go earlier."""
    value = environ.get(SOURCE_DATE_EPOCH, "").strip()
    if not value:
        return ZIP_EPOCH
    try:
        moment = time.gmtime(int(value))
    except (ValueError, OverflowError, OSError):
        raise ConfigError(SOURCE_DATE_EPOCH, f"{value!r} is not a Unix timestamp") from None
    if moment.tm_year > 2107:
        raise ConfigError(SOURCE_DATE_EPOCH, f"{value} is after 2107, the last year a zip holds")
    stamp = (moment.tm_year, moment.tm_mon, moment.tm_mday, moment.tm_hour, moment.tm_min,
             moment.tm_sec)  # fmt: skip  # laid out as a table
    return max(ZIP_EPOCH, stamp)


def write_zip(
    entries: Iterable[Entry],
    out_path: Path,
    *,
    date_time: tuple[int, int, int, int, int, int] = ZIP_EPOCH,
) -> None:
    """The same entries give the same bytes: sorted, fixed dates and modes, no extra fields."""
    ordered = _unique(entries)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    partial = out_path.with_name(out_path.name + ".partial")
    with zipfile.ZipFile(partial, "w") as archive:
        for arcname, path in ordered:
            info = zipfile.ZipInfo(arcname, date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = UNIX
            info.external_attr = FILE_MODE << 16
            archive.writestr(info, path.read_bytes(), compresslevel=COMPRESS_LEVEL)
    partial.replace(out_path)


def _unique(entries: Iterable[Entry]) -> list[Entry]:
    ordered = sorted(entries)
    for (name, first), (again, second) in itertools.pairwise(ordered):
        if name == again:
            raise PackagingError(f"{name} comes from both {first} and {second}")
    return ordered


def code_sha256(path: Path) -> str:
    """base64 of the sha256 digest: what Lambda reports as CodeSha256."""
    digest = hashlib.sha256(path.read_bytes()).digest()
    return base64.b64encode(digest).decode("ascii")


def check_unzipped_size(entries: Iterable[Entry], *, limit: int = MAX_UNZIPPED) -> int:
    size = sum(path.stat().st_size for _, path in entries)
    if size > limit:
        raise PackagingError(
            f"{_mb(size)} unzipped is over Lambda's {_mb(limit)} limit; "
            "trim dependencies or move some into a layer"
        )
    return size


def check_zipped_size(path: Path, *, limit: int = MAX_ZIPPED) -> int:
    size = path.stat().st_size
    if size > limit:
        raise PackagingError(
            f"{path.name} is {_mb(size)}, over Lambda's {_mb(limit)} limit for a direct "
            "upload; trim dependencies or deploy it from S3"
        )
    return size


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB"


# --- dependencies --------------------------------------------------------------------------


def canonical_name(name: str) -> str:
    """PEP 503: `Python_Dateutil` and `python.dateutil` are `python-dateutil`."""
    return re.sub(r"[-_.]+", "-", name).lower()


def project_requirements(pyproject: Path) -> list[str]:
    with pyproject.open("rb") as file:
        project = tomllib.load(file).get("project", {})
    requirements = project.get("dependencies", [])
    if not isinstance(requirements, list) or not all(isinstance(r, str) for r in requirements):
        raise PackagingError(f"{pyproject}: [project].dependencies is not a list of strings")
    return requirements


def parse_requirement(text: str) -> Requirement:
    try:
        return Requirement(text)
    except InvalidRequirement as error:
        raise PackagingError(f"requirement {text!r} is not valid: {error}") from None


def is_runtime_provided(requirement: str) -> bool:
    return canonical_name(parse_requirement(requirement).name) in RUNTIME_PROVIDED


def resolved_from_report(report: Mapping[str, object]) -> list[Resolved]:
    """The distributions in pip's installation report (`pip install --dry-run --report`)."""
    install = report.get("install")
    if not isinstance(install, list):
        raise PackagingError("pip's report has no 'install' list")
    resolved = []
    try:
        for item in install:
            metadata, url = item["metadata"], item["download_info"]["url"]
            if urlparse(url).scheme != "file":
                raise PackagingError(f"{metadata['name']} resolved to {url}, not the cache")
            resolved.append(
                Resolved(
                    name=metadata["name"],
                    version=metadata["version"],
                    wheel=Path(url2pathname(unquote(urlparse(url).path))),
                    requires=tuple(metadata.get("requires_dist") or ()),
                    extras=tuple(item.get("requested_extras") or ()),
                )
            )
    except (KeyError, TypeError) as error:
        raise PackagingError(f"pip's report is not in the expected shape: {error!r}") from None
    return sorted(resolved, key=lambda r: canonical_name(r.name))


def applies(text: str, markers: Mapping[str, str], extras: Iterable[str] = ()) -> bool:
    """Whether a requirement holds where `markers` describe, for a distribution with `extras`."""
    marker = parse_requirement(text).marker
    if marker is None:
        return True
    return any(marker.evaluate({**markers, "extra": extra}) for extra in ("", *extras))


def host_dependent(
    requirements: Iterable[tuple[str, Sequence[str]]], pip_markers: Mapping[str, str]
) -> list[str]:
    """(requirement, extras) whose marker pip, on this machine, judged unlike Lambda would."""
    return [
        text
        for text, extras in requirements
        if applies(text, pip_markers, extras) != applies(text, LAMBDA_MARKERS, extras)
    ]


def runtime_conflicts(
    wanted: Iterable[tuple[str, str, Sequence[str]]],
    provided: Mapping[str, str] = RUNTIME_PROVIDED,
) -> list[str]:
    """(who, requirement, who's extras) on a runtime-provided distribution it may not meet."""
    problems = []
    for who, text, extras in wanted:
        requirement = parse_requirement(text)
        name = canonical_name(requirement.name)
        if name not in provided or not applies(text, LAMBDA_MARKERS, extras):
            continue
        if not requirement.specifier.contains(provided[name], prereleases=True):
            problems.append(
                f"{who} needs {text}, but the python3.12 runtime is only counted on to have "
                f"{name} {provided[name]} (see RUNTIME_PROVIDED in opsbundle/packaging.py)"
            )
    return problems


def unpack_wheel(wheel: Path, target: Path) -> None:
    """Install a wheel the way pip would for Lambda: purelib and platlib into `target`."""
    with zipfile.ZipFile(wheel) as archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            parts = PurePosixPath(info.filename).parts
            if info.filename.startswith("/") or ".." in parts:
                raise PackagingError(f"{wheel.name} has an unsafe path: {info.filename}")
            if parts[0].endswith(".data"):
                if len(parts) < 3 or parts[1] not in ("purelib", "platlib"):
                    continue  # scripts, headers, data: nothing Lambda imports
                parts = parts[2:]
            destination = target.joinpath(*parts)
            if destination.exists():
                raise PackagingError(f"{wheel.name} overwrites {'/'.join(parts)}")
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(archive.read(info))


def run_pip(args: Sequence[str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", *args]
    return subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603


def install_dependencies(
    requirements: Sequence[str],
    target: Path,
    cache: Path,
    *,
    offline: bool = False,
    pip: Pip = run_pip,
    provided: Mapping[str, str] = RUNTIME_PROVIDED,
    omits: Iterable[str] = (),
) -> list[Resolved]:
    """Unpack into `target` what Lambda needs beyond `provided` (the runtime's distributions
    this Lambda relies on) and `omits` (what it never imports); return what was bundled."""
    conflicts = runtime_conflicts((("pyproject.toml", t, ()) for t in requirements), provided)
    if conflicts:
        raise PackagingError("; ".join(conflicts))
    wanted = [t for t in requirements if canonical_name(parse_requirement(t).name) not in provided]
    target.mkdir(parents=True, exist_ok=True)
    if not wanted:
        return []
    cache.mkdir(parents=True, exist_ok=True)
    if not offline:
        _pip(pip, "download", wanted, ["download", "-q", "--dest", str(cache)], offline)
    local = ["--no-index", "--find-links", str(cache)]
    dry_run = ["install", "-q", "--dry-run", "--ignore-installed", "--report", "-", *local]
    answer = _pip(pip, "resolve", wanted, dry_run, offline).stdout
    try:
        report = json.loads(answer)
    except ValueError:
        raise PackagingError(f"pip's report is not JSON: {answer[:200]!r}") from None
    resolved = resolved_from_report(report)
    left_out = {canonical_name(name) for name in omits}
    bundled = [
        r
        for r in resolved
        if canonical_name(r.name) not in provided and canonical_name(r.name) not in left_out
    ]

    requested = [(t, ()) for t in wanted] + [(t, r.extras) for r in resolved for t in r.requires]
    if unlike := host_dependent(requested, report.get("environment", {})):
        raise PackagingError(
            "pip evaluated these markers for this machine, not Lambda (python3.12, aarch64): "
            + "; ".join(unlike)
            + ". Build under Python 3.12 on arm64, or list what Lambda needs in pyproject.toml"
        )
    conflicts = runtime_conflicts(
        ((f"{r.name} {r.version}", t, r.extras) for r in bundled for t in r.requires), provided
    )
    if conflicts:
        raise PackagingError("; ".join(conflicts))
    for distribution in bundled:
        unpack_wheel(distribution.wheel, target)
    return bundled


def _pip(
    pip: Pip, step: str, wanted: Sequence[str], args: Sequence[str], offline: bool
) -> subprocess.CompletedProcess[str]:
    result = pip([*args, *PIP_PLATFORM, *wanted])
    if result.returncode != 0:
        raise PackagingError(pip_failure(step, wanted, result.stderr, offline=offline))
    return result


def pip_failure(step: str, wanted: Sequence[str], stderr: str, *, offline: bool) -> str:
    """One line naming the dependency pip could not get, and pip's own reason."""
    found = re.search(
        r"(?:No matching distribution found for|satisfies the requirement) (\S+)", stderr
    )
    errors = [line.strip() for line in stderr.splitlines() if line.startswith("ERROR")]
    reason = errors[-1] if errors else (stderr.strip().splitlines() or ["no output"])[-1]
    which = f"dependency {found.group(1)}" if found else "dependencies " + ", ".join(wanted)
    hint = " (offline: is it in the wheel cache? build once without --offline)" if offline else ""
    return f"pip {step} failed for {which} on python3.12/aarch64{hint}: {reason}"


# --- the build -----------------------------------------------------------------------------


def lambda_requirements(name: str, requirements: Sequence[str]) -> list[str]:
    """The pyproject requirements one Lambda imports (so report_fn ships no OpenSearch)."""
    wanted = {canonical_name(dist) for dist in LAMBDAS[name].requires}
    chosen = [
        text for text in requirements if canonical_name(parse_requirement(text).name) in wanted
    ]
    missing = wanted - {canonical_name(parse_requirement(text).name) for text in chosen}
    if missing:
        raise PackagingError(
            f"LAMBDAS[{name!r}] requires {', '.join(sorted(missing))}, "
            "which pyproject.toml's [project].dependencies does not list"
        )
    return chosen


def build(
    names: Sequence[str],
    dist: Path,
    *,
    root: Path = PROJECT_ROOT,
    cache: Path = DEFAULT_WHEEL_CACHE,
    offline: bool = False,
    environ: Mapping[str, str] = os.environ,
    pip: Pip = run_pip,
    bytecode: bool = True,
) -> list[Built]:
    date_time = zip_date_time(environ)
    requirements = project_requirements(root / "pyproject.toml")
    built = []
    compiler = find_python312(environ) if bytecode else None
    if bytecode and compiler is None:
        print(
            "opsbundle.packaging: no python3.12 here (set OPSBUNDLE_PYTHON312): zips without "
            "bytecode, so each cold start compiles its modules",
            file=sys.stderr,
        )
    with tempfile.TemporaryDirectory(prefix="opsbundle-package-") as scratch:
        for name in names:
            site = Path(scratch) / name / "site-packages"
            wanted = lambda_requirements(name, requirements)
            provided = LAMBDAS[name].runtime_provided()
            install_dependencies(
                wanted,
                site,
                cache,
                offline=offline,
                pip=pip,
                provided=provided,
                omits=LAMBDAS[name].omits,
            )
            prunes = LAMBDAS[name].prunes
            dependencies = [
                entry
                for entry in collect_tree(site)
                if not any(fnmatch.fnmatchcase(entry[0], pattern) for pattern in prunes)
            ]
            sources = collect_sources(root / package for package in LAMBDAS[name].packages)
            data = [(file, root / file) for file in LAMBDAS[name].data if (root / file).is_file()]
            entries = [e for e in sources if e[0] not in BUILD_ONLY] + data + dependencies
            if compiler:
                entries += compile_bytecode(entries, compiler, Path(scratch) / name / "pyc")
            check_unzipped_size(entries)
            out = dist / f"{name}.zip"
            write_zip(entries, out, date_time=date_time)
            try:
                size = check_zipped_size(out)
            except PackagingError:
                out.unlink()
                raise
            sha256 = code_sha256(out)
            out.with_name(out.name + ".sha256").write_text(sha256 + "\n", encoding="ascii")
            built.append(Built(name=name, path=out, size=size, sha256=sha256))
    return built


# --- bytecode ------------------------------------------------------------------------------

LAMBDA_ROOT = "/var/task"
PYTHON312 = "OPSBUNDLE_PYTHON312"
_COMPILE = """
import json, py_compile, sys
for source, target, shown in json.load(sys.stdin):
    py_compile.compile(source, cfile=target, dfile=shown, doraise=True,
                       invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
"""


def find_python312(environ: Mapping[str, str] = os.environ) -> str | None:
    """A CPython 3.12 to compile Lambda's bytecode with: OPSBUNDLE_PYTHON312, python3.12 on
    PATH, a pyenv 3.12, or this interpreter if it is one."""
    candidates = [environ.get(PYTHON312, ""), shutil.which("python3.12") or ""]
    pyenv = Path(environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    candidates += sorted((str(p) for p in pyenv.glob("3.12*/bin/python3.12")), reverse=True)
    if sys.version_info[:2] == (3, 12):
        candidates.append(sys.executable)
    for candidate in filter(None, candidates):
        try:
            answer = subprocess.run(  # noqa: S603 - a python the builder chose
                [candidate, "-c", "import sys; print(sys.implementation.cache_tag)"],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
        except OSError:
            continue
        if answer.returncode == 0 and answer.stdout.strip() == "cpython-312":
            return candidate
    return None


def compile_bytecode(entries: Sequence[Entry], python: str, scratch: Path) -> list[Entry]:
    """`__pycache__/<module>.cpython-312.pyc` for each .py entry, as Lambda would write it."""
    jobs = []
    added: list[Entry] = []
    for arcname, path in entries:
        if not arcname.endswith(".py"):
            continue
        folder, _, filename = arcname.rpartition("/")
        cached = f"{folder + '/' if folder else ''}__pycache__/{filename[:-3]}.cpython-312.pyc"
        target = scratch / cached
        jobs.append((str(path), str(target), f"{LAMBDA_ROOT}/{arcname}"))
        added.append((cached, target))
    result = subprocess.run(  # noqa: S603 - the python find_python312 checked
        [python, "-I", "-c", _COMPILE],
        input=json.dumps(jobs),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        tail = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise PackagingError(f"python3.12 could not compile the sources: {tail}")
    return added


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m opsbundle.packaging", description=__doc__.splitlines()[0]
    )
    parser.add_argument("dist", type=Path, metavar="DIST_DIR", help="where the zips go")
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(LAMBDAS),
        metavar="NAME",
        help=f"build only this Lambda (repeatable): {', '.join(sorted(LAMBDAS))}",
    )
    parser.add_argument(
        "--wheel-cache",
        type=Path,
        default=DEFAULT_WHEEL_CACHE,
        metavar="DIR",
        help="downloaded wheels, reused by the next build (default: .cache/wheels)",
    )
    parser.add_argument(
        "--offline", action="store_true", help="use only the wheel cache; never reach PyPI"
    )
    parser.add_argument(
        "--no-bytecode",
        action="store_true",
        help="sources only: no python3.12 bytecode (each cold start then compiles)",
    )
    return parser


def main(argv: Sequence[str] | None = None, *, pip: Pip = run_pip) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:  # argparse has printed the usage error (2) or the help (0)
        return int(exit_.code or 0)
    names = sorted(set(args.only or LAMBDAS))
    try:
        built = build(
            names,
            args.dist,
            cache=args.wheel_cache,
            offline=args.offline,
            pip=pip,
            bytecode=not args.no_bytecode,
        )
    except ConfigError as error:
        print(f"opsbundle.packaging: configuration error: {error}", file=sys.stderr)
        return 2
    except (OpsbundleError, OSError) as error:
        print(f"opsbundle.packaging: failed: {error}", file=sys.stderr)
        return 1
    for zip_ in built:
        print(f"{zip_.name}  {zip_.path}  {zip_.size} bytes  sha256={zip_.sha256}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
