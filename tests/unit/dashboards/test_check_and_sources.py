"""`dashboards check`'s PromQL reading and usage errors, and the contract between the
dashboards, the rules, the README's YACE configuration and the recorded exporter fixtures."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from dashboards.build import build_all, rule_files
from dashboards.promql import Matcher, selectors
from opsbundle.cli import main

ROOT = Path(__file__).resolve().parents[3]
README = ROOT / "README.md"
FIXTURES = ROOT / "tests" / "fixtures" / "dashboards" / "exporters"
SOURCES = ("aws_", "node_", "container_", "kube_", "opsbundle_", "up")


def all_exprs() -> list[str]:
    exprs = [
        t["expr"]
        for board in build_all().values()
        for panel in board["panels"]
        for t in panel.get("targets", [])
    ]
    for path in rule_files():
        for group in yaml.safe_load(path.read_text())["groups"]:
            exprs += [rule["expr"] for rule in group["rules"]]
    return exprs


def test_selectors_reads_metrics_and_matchers_not_functions_or_label_lists() -> None:
    expr = (
        '100 * sum by (account_id, region) (rate(x_total{a="b", c=~"d|e"}[5m])) '
        "/ on (a) group_left (b) y offset 5m + time() - vector(1) and z[5m:1m] > inf"
    )
    assert [str(s) for s in selectors(expr)] == ['x_total{a="b", c=~"d|e"}', "y", "z"]
    (one,) = selectors('m{q="a\\"b", r!~"lo|veth.*"}')
    assert one.matchers == (Matcher("q", "=", '"a\\"b"'), Matcher("r", "!~", '"lo|veth.*"'))


@pytest.mark.parametrize(
    ("matcher", "needs"),
    [
        ('a=""', False), ('a="x"', True), ('a!=""', True), ('a!="x"', False),
        ('a=~".*"', False), ('a=~"(p|q)"', True), ('a!~"lo|veth.*"', False), ('a!~".*"', True),
    ],
)  # fmt: skip  # one case a line
def test_a_matcher_knows_whether_it_needs_its_label(matcher: str, needs: bool) -> None:
    (selector,) = selectors(f"m{{{matcher}}}")
    assert selector.matchers[0].needs_the_label is needs


def test_every_query_reads_metrics_of_a_supported_source() -> None:
    for expr in all_exprs():
        found = selectors(expr)
        assert found, expr
        for selector in found:
            assert selector.metric.startswith(SOURCES), f"{selector.metric} in {expr}"


@pytest.mark.parametrize(
    ("args", "line"),
    [
        ([], "--prometheus: is not set (or set PROMETHEUS_URL)"),
        (["--prometheus", "prometheus:9090"], "--prometheus: expected an http(s) URL"),
        (["--prometheus", "ftp://prometheus"], "--prometheus: expected an http(s) URL"),
        (["--prometheus", "http://p", "--range", "1 hour"], "--range: expected a duration"),
        (["--prometheus", "http://p", "--scrape-interval", "0s"], "--scrape-interval: expected"),
        (["--prometheus", "http://p", "--dashboard", "nope"], "--dashboard: no dashboard 'nope'"),
    ],
)
def test_check_usage_errors_exit_2_with_one_line_naming_the_flag(
    args: list[str],
    line: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PROMETHEUS_URL", raising=False)
    assert main(["dashboards", "check", *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith(f"opsbundle: configuration error: {line}"), err


# -- the README's YACE configuration feeds every AWS query, once per resource ----------------


def readme_yace_jobs() -> list[dict[str, object]]:
    text = README.read_text("utf-8")
    block = re.search(r"```yaml\n(# yace\.yml.*?)```", text, re.S)
    assert block, "no yace.yml block in README.md"
    return list(yaml.safe_load(block.group(1))["discovery"]["jobs"])


def yace_name(namespace: str, metric: str, statistic: str) -> str:
    """YACE's promutil.BuildMetricName for the namespaces the dashboards read."""

    def snake(text: str) -> str:
        out, previous = "", ""
        for c in text:
            if c in " ,\t/\\.-:=@<>()":
                out += "_"
            elif c.isupper() and (previous.islower() or previous.isdigit()):
                out += "_" + c.lower()
            else:
                out += c.lower()
            previous = c
        return out

    prefix = snake(namespace.lower()).lstrip("_")
    prefix = prefix if prefix.startswith("aws") else f"aws_{prefix}"
    name = snake(metric)
    for part in prefix.split("_"):
        name = name.removeprefix(part)
    return f"{prefix}_{name.lstrip('_')}_{snake(statistic)}"


def test_yace_name_matches_the_names_yace_writes() -> None:
    assert yace_name("AWS/ApplicationELB", "UnHealthyHostCount", "Maximum") == (
        "aws_applicationelb_un_healthy_host_count_maximum"
    )
    assert yace_name("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "Sum") == (
        "aws_applicationelb_httpcode_target_5_xx_count_sum"
    )
    assert yace_name("ECS/ContainerInsights", "RunningTaskCount", "Average") == (
        "aws_ecs_containerinsights_running_task_count_average"
    )
    assert yace_name("AWS/RDS", "CPUUtilization", "Average") == "aws_rds_cpuutilization_average"


def test_the_readme_yace_config_exports_every_aws_series_the_dashboards_and_rules_read() -> None:
    exported: dict[str, list[set[str]]] = {}
    for job in readme_yace_jobs():
        required = job.get("dimensionNameRequirements")
        assert isinstance(required, list) and required, f"{job['type']}: dimensionNameRequirements"
        for metric in job["metrics"]:  # type: ignore[attr-defined]
            for statistic in metric["statistics"]:
                name = yace_name(str(job["type"]), metric["name"], statistic)
                exported.setdefault(name, []).append(set(required))
    for expr in all_exprs():
        for selector in selectors(expr):
            if not selector.metric.startswith("aws_"):
                continue
            assert selector.metric in exported, f"the README's YACE config lacks {selector.metric}"
            # The query's filters select the very dimension set the job keeps: each resource
            # once, whatever else YACE would export without the requirement.
            kept = {
                m.label.removeprefix("dimension_")
                for m in selector.matchers
                if m.label.startswith("dimension_") and m.needs_the_label
            }
            empty = {
                m.label.removeprefix("dimension_")
                for m in selector.matchers
                if m.label.startswith("dimension_") and m.op == "=" and m.value == '""'
            }
            assert any(kept <= dims and not (empty & dims) for dims in exported[selector.metric]), (
                f"{selector} reads no dimension set the README's YACE jobs keep"
            )


def test_every_exporter_fixture_says_where_its_shape_comes_from() -> None:
    fixtures = sorted(FIXTURES.glob("*.prom"))
    assert len(fixtures) >= 6
    for path in fixtures:
        note = [line for line in path.read_text().splitlines()[:25] if line.startswith("# ")]
        prose = [line for line in note if not line.startswith(("# HELP", "# TYPE"))]
        assert len(prose) >= 4, f"{path.name} has no note on where its shape comes from"
