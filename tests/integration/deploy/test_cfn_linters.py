"""cfn-lint and checkov on every template in cloudformation/, parliament on every IAM policy:
no errors, no warnings.

The tools live in their own virtualenv (.ci/cfn-tools.sh, pinned versions) because checkov
pins many dependencies. The script installs them from PyPI the first time; these tests skip
only when the tools are missing and PyPI cannot be reached.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import requests

from tests.integration.deploy.conftest import ROOT

TEMPLATES = sorted((ROOT / "cloudformation").glob("*.yaml"))


def run(*argv: str | Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """A tool (or the repository's own script) run from the project root, output captured."""
    return subprocess.run(  # noqa: S603 - the pinned tools and the repository's own scripts
        [str(a) for a in argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def cfn_lint(tools: Path, template: Path) -> subprocess.CompletedProcess[str]:
    return run(tools / "cfn-lint", "--format", "parseable", template)


def checkov(tools: Path, directory: Path | str) -> subprocess.CompletedProcess[str]:
    return run(
        tools / "checkov",
        "-d",
        directory,
        "--framework",
        "cloudformation",
        "--skip-download",
        "--output",
        "json",
    )


@pytest.fixture(scope="module")
def tools() -> Path:
    result = run(ROOT / ".ci" / "cfn-tools.sh", timeout=600)
    if result.returncode != 0:
        try:
            requests.head("https://pypi.org/simple/checkov/", timeout=10)
        except requests.RequestException as error:
            pytest.skip(f"cfn-lint/checkov not installed and PyPI unreachable: {error}")
        pytest.fail(f".ci/cfn-tools.sh failed: {result.stderr[-2000:]}")
    return ROOT / result.stdout.strip()


@pytest.mark.timeout(600)
@pytest.mark.parametrize("template", TEMPLATES, ids=[t.name for t in TEMPLATES])
def test_cfn_lint_finds_nothing(tools: Path, template: Path) -> None:
    result = cfn_lint(tools, template)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


@pytest.mark.timeout(600)
def test_checkov_passes_with_every_suppression_explained(tools: Path) -> None:
    result = checkov(tools, "cloudformation")
    reports = json.loads(result.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    failed = [
        f"{c['check_id']} {c['file_path']} {c['resource']}"
        for report in reports
        for c in report.get("results", {}).get("failed_checks", [])
    ]
    assert failed == [], "\n".join(failed)
    assert all(r["summary"]["parsing_errors"] == 0 for r in reports), "checkov could not parse"
    skipped = [c for r in reports for c in r.get("results", {}).get("skipped_checks", [])]
    scanned = {
        Path(c["file_path"]).name
        for r in reports
        for key in ("passed_checks", "failed_checks", "skipped_checks")
        for c in r.get("results", {}).get(key, [])
    }
    assert {t.name for t in TEMPLATES} <= scanned, "checkov did not read every template"
    for check in skipped:
        reason = (check.get("check_result") or {}).get("suppress_comment", "")
        assert len(reason.strip()) >= 30, f"{check['check_id']} {check['resource']}: no reason"
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.mark.timeout(600)
def test_parliament_finds_no_privilege_escalation_path(tools: Path) -> None:
    """Every identity policy, resolved for the prod parameter file (every stack); the deploy
    role's, CodePipeline's and the access groups' findings that are there on purpose are
    muted in .ci/parliament-*.yaml, each with its reason."""
    result = run(ROOT / ".ci" / "iam-lint.sh")
    assert result.returncode == 0, result.stdout + result.stderr
    written = list((ROOT / ".cache" / "iam-policies").rglob("*.json"))
    assert len(written) >= 10, "opsbundle.deployment.iam_policies wrote too few policies"


@pytest.mark.timeout(600)
def test_the_report_stack_rendered_from_the_example_reports_file_is_clean_too(
    tools: Path, tmp_path: Path
) -> None:
    """What `opsbundle deploy` sends when the project has a reports file: a schedule per report."""
    from opsbundle.deployment import report_stack

    assert report_stack.main([str(ROOT / "reports.example.yml"), str(tmp_path)]) == 0
    rendered = tmp_path / "report.json"
    lint = cfn_lint(tools, rendered)
    assert lint.returncode == 0 and not lint.stdout.strip(), lint.stdout + lint.stderr
    scan = checkov(tools, tmp_path)
    report = json.loads(scan.stdout)
    assert report["results"]["failed_checks"] == [], report["results"]["failed_checks"]
    assert report["summary"]["passed"] > 0 and scan.returncode == 0
