"""Each Lambda zip imports the handlers its templates name, in a clean virtualenv.

`make package` builds for Lambda python3.12 on arm64; this machine has python3.11 on x86_64,
so the clean virtualenv is python3.11 (with boto3 installed into it, as the Lambda runtime
provides boto3 and the zips leave it out). Pure-Python code and dependencies import the same
way. A compiled dependency (orjson) built for aarch64/cp312 cannot load here: the test checks
that the zip holds it built for Lambda, then swaps in this machine's build of the same version
and imports with that. Builds use the wheel cache and PyPI, so the test skips only when PyPI
cannot be reached.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import venv
import zipfile
from pathlib import Path

import pytest
import requests

from opsbundle.deployment import packaging
from opsbundle.deployment.stacks import TEMPLATES_DIR, load_template


def handlers_by_package() -> dict[str, set[str]]:
    """Handler strings named in the templates, by their top-level package."""
    found: dict[str, set[str]] = {}
    for template in TEMPLATES_DIR.glob("*.yaml"):
        resources = load_template(template)["Resources"]
        stamped = [
            r for k, v in resources.items() if k.startswith("Fn::ForEach::") for r in v[2].values()
        ]
        plain = [v for v in resources.values() if isinstance(v, dict)]
        for resource in stamped + plain:
            if resource.get("Type") == "AWS::Lambda::Function":
                handler = resource["Properties"]["Handler"]
                found.setdefault(handler.split(".")[0], set()).add(handler)
    return found


def isolated(
    python: Path, script: str, *, cwd: Path, **env: str
) -> subprocess.CompletedProcess[str]:
    """`script` in an isolated interpreter (-I: no user site, no PYTHON* variables)."""
    return subprocess.run(  # noqa: S603 - the clean interpreter this test made
        [str(python), "-I", "-c", script],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": "/usr/bin:/bin", **env},
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    try:
        requests.head("https://pypi.org/simple/requests/", timeout=10)
    except requests.RequestException as error:
        pytest.skip(f"PyPI is unreachable ({error}); the build needs its wheels")
    dist = tmp_path_factory.mktemp("dist")
    assert packaging.main([str(dist)]) == 0
    return dist


@pytest.fixture(scope="module")
def clean_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh python3.11 virtualenv with only boto3, as the Lambda runtime has it."""
    where = tmp_path_factory.mktemp("clean-venv")
    venv.EnvBuilder(with_pip=True, clear=True).create(where)
    python = where / "bin" / "python"
    subprocess.run(  # noqa: S603
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", "boto3"],
        check=True,
        timeout=300,
    )
    return python


@pytest.mark.timeout(900)
@pytest.mark.parametrize("name", sorted(packaging.LAMBDAS))
def test_the_zip_imports_every_handler_its_templates_name(
    name: str, built: Path, clean_python: Path, tmp_path: Path
) -> None:
    packages = packaging.LAMBDAS[name].packages
    handlers = handlers_by_package()
    wanted = sorted(h for package in packages for h in handlers.get(package, ()))
    assert wanted, f"no template names a handler in {packages}; is {name} deployed at all?"
    unpacked = tmp_path / name
    with zipfile.ZipFile(built / f"{name}.zip") as archive:
        archive.extractall(unpacked)
    swap_compiled_for_this_machine(unpacked, clean_python)
    script = (
        "import importlib, sys\n"
        f"sys.path.insert(0, {str(unpacked)!r})\n"
        f"for handler in {wanted!r}:\n"
        "    module, _, function = handler.rpartition('.')\n"
        "    loaded = importlib.import_module(module)\n"
        "    assert callable(getattr(loaded, function)), handler\n"
        "    assert loaded.__file__.startswith(sys.path[0]), loaded.__file__\n"
        "print('ok')\n"
    )
    result = isolated(clean_python, script, cwd=tmp_path, AWS_REGION="us-east-1")
    assert result.returncode == 0, f"{name}: {result.stderr[-3000:]}"
    assert result.stdout.strip() == "ok"
    # The clean virtualenv runs this machine's python3 (3.11 here, 3.12 in CodeBuild).


LAMBDA_EXTENSION = re.compile(r"\.cpython-312-aarch64-linux-gnu\.so$|\.abi3\.so$")


def swap_compiled_for_this_machine(unpacked: Path, clean_python: Path) -> None:
    """Each distribution in the zip that holds compiled extensions: its extensions must be
    Lambda's (cp312, aarch64); it is then removed from the tree and the same version installed
    for this machine into the clean virtualenv, so the handlers import with it."""
    for record in sorted(unpacked.glob("*.dist-info/RECORD")):
        files = [line.split(",")[0] for line in record.read_text().splitlines() if line]
        extensions = [f for f in files if f.endswith(".so")]
        if not extensions:
            continue
        strangers = [f for f in extensions if not LAMBDA_EXTENSION.search(f)]
        assert not strangers, f"{record.parent.name}: not built for Lambda: {strangers}"
        for relative in files:
            (unpacked / relative).unlink(missing_ok=True)
        shutil.rmtree(record.parent, ignore_errors=True)
        distribution, version = record.parent.name.removesuffix(".dist-info").split("-", 1)
        subprocess.run(  # noqa: S603
            [
                str(clean_python),
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                f"{distribution}=={version}",
            ],
            check=True,
            timeout=300,
        )


@pytest.mark.parametrize("name", sorted(packaging.LAMBDAS))
def test_no_zip_ships_the_deployment_tooling(name: str, built: Path) -> None:
    with zipfile.ZipFile(built / f"{name}.zip") as archive:
        shipped = {n for n in archive.namelist() if n.startswith("opsbundle/")}
    assert "opsbundle/settings.py" in shipped
    assert not {n for n in shipped if n.startswith("opsbundle/deployment/")}


def test_every_handler_named_in_a_template_has_a_zip() -> None:
    packaged = {package for spec in packaging.LAMBDAS.values() for package in spec.packages}
    missing = {p: sorted(h) for p, h in handlers_by_package().items() if p not in packaged}
    assert handlers_by_package()
    assert not missing, f"handlers without a zip in packaging.LAMBDAS: {missing}"


@pytest.mark.timeout(900)
def test_every_zip_builds_to_the_same_bytes_twice(
    built: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """What makes an unchanged function keep its S3 key, so CloudFormation leaves it alone."""
    again = tmp_path / "again"
    assert packaging.main([str(again), "--offline"]) == 0, capsys.readouterr().err
    for name in packaging.LAMBDAS:
        first = (built / f"{name}.zip").read_bytes()
        assert (again / f"{name}.zip").read_bytes() == first, f"{name}.zip differs"
        assert (again / f"{name}.zip.sha256").read_text() == (
            built / f"{name}.zip.sha256"
        ).read_text()


@pytest.mark.timeout(300)
def test_the_chart_draws_with_pillow_pruned_as_the_zip_prunes_it(
    clean_python: Path, tmp_path: Path
) -> None:
    """report_fn's zip leaves out Pillow's AVIF, WebP and colour-management extensions and
    libraries (packaging.PILLOW_UNUSED). The same Pillow for this machine, pruned the same way,
    must still draw the chart: PNG with FreeType text."""
    from importlib.metadata import version

    site = tmp_path / "site"
    subprocess.run(  # noqa: S603
        [
            str(clean_python),
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            "--target",
            str(site),
            f"pillow=={version('pillow')}",
        ],
        check=True,
        timeout=240,
    )
    for pattern in packaging.PILLOW_UNUSED:
        matched = list(site.glob(pattern))  # the cpython tag and library hashes differ here
        assert matched, f"{pattern} matches nothing in Pillow: the prune list is stale"
        for path in matched:
            path.unlink()
    root = packaging.PROJECT_ROOT
    script = (
        "import sys\n"
        f"sys.path[:0] = [{str(site)!r}, {str(root)!r}]\n"
        "from report_fn.chart import ChartData, Series, render_png\n"
        "data = ChartData(title='Leads per hour · Sun 8 Mar to 21:00 EDT',\n"
        "                 hours=tuple(f'{h:02d}' for h in range(21)),\n"
        "                 series=(Series('Today 91', (1, 0, None) + (4,) * 18, '#0072B2',\n"
        "                                'bars'),\n"
        "                         Series('Yesterday 94', (2,) * 21, '#D55E00', 'line')),\n"
        "                 note='Clocks went forward today')\n"
        "png = render_png(data)\n"
        "assert png[:8] == b'\\x89PNG\\r\\n\\x1a\\n', png[:8]\n"
        "import PIL\n"
        "assert PIL.__file__.startswith(sys.path[0]), PIL.__file__\n"
        "print(len(png))\n"
    )
    result = isolated(clean_python, script, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert int(result.stdout) > 10_000


def test_report_fn_ships_pillow_for_png_and_text_only(built: Path) -> None:
    with zipfile.ZipFile(built / "report_fn.zip") as archive:
        names = archive.namelist()
    import fnmatch

    for pattern in packaging.PILLOW_UNUSED:
        assert not fnmatch.filter(names, pattern), pattern
    for needed in (
        "PIL/_imaging.cpython-312-aarch64-linux-gnu.so",
        "PIL/_imagingft.cpython-312-aarch64-linux-gnu.so",
    ):
        assert needed in names
    assert any(name.startswith("pillow.libs/libfreetype-") for name in names)
    # The project has no reports.yml of its own (reports.example.yml is not shipped).
    assert "reports.yml" not in names and "reports.example.yml" not in names
