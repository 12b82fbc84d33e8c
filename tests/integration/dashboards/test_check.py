"""`opsbundle dashboards check` against the real Prometheus: every panel has data on what the
supported exporters emit (exit 0); on YACE run with -labels-snake-case, or with a namespace
not exported at all, it names each empty panel and why (exit 1); a URL that is no Prometheus
is a configuration error naming --prometheus (exit 2)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboards import check
from opsbundle.cli import main
from tests.integration.dashboards.conftest import LoadedPrometheus
from tests.integration.dashboards.recorded import YACE_SNAKE_CASE
from tests.integration.dashboards.stack import Prometheus, free_port
from tests.integration.dashboards.synthetic import Synthetic


@pytest.fixture(scope="module")
def snake_case_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prometheus]:
    """A Prometheus holding only YACE's Lambda series with -labels-snake-case=true."""
    work: Path = tmp_path_factory.mktemp("prometheus-snake-case")
    history = Synthetic(time.time())
    history.recorded(YACE_SNAKE_CASE)
    prometheus = Prometheus.start(work, backfill=history.write(work / "history.om"))
    try:
        yield prometheus
    finally:
        prometheus.proc.stop()


def test_every_panel_has_data_on_the_supported_exporters(
    loaded_prometheus: LoadedPrometheus, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["dashboards", "check", "--prometheus", loaded_prometheus.prometheus.url])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "No data" not in out
    assert "Lambda health (opsbundle-lambda-health): 13 of 13 panels have data" in out
    assert out.strip().splitlines()[-1].startswith("every panel has data: ")


def test_snake_case_labels_and_a_missing_namespace_are_named(
    snake_case_prometheus: Prometheus, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["dashboards", "check", "--prometheus", snake_case_prometheus.url, "--range", "2h"]
    code = main([*args, "--dashboard", "opsbundle-lambda-health", "--dashboard", "opsbundle-rds"])
    out = capsys.readouterr().out
    assert code == 1, out
    assert "Lambda health (opsbundle-lambda-health): 0 of 13 panels have data" in out
    assert (
        "no aws_lambda_invocations_sum series has the label dimension_FunctionName, but they "
        "have dimension_function_name: the exporter names labels differently (YACE's "
        "-labels-snake-case is not supported)"
    ) in out
    assert "the variable $function has no values" in out
    assert "aws_rds_cpuutilization_average is absent (YACE: is its namespace's job" in out
    assert out.strip().splitlines()[-1].startswith("26 of 26 panels would show No data")


def test_a_url_that_is_no_prometheus_is_a_configuration_error(
    loaded_prometheus: LoadedPrometheus, capsys: pytest.CaptureFixture[str]
) -> None:
    unreachable = f"http://127.0.0.1:{free_port()}"
    assert main(["dashboards", "check", "--prometheus", unreachable]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith(
        f"opsbundle: configuration error: --prometheus: could not reach Prometheus at {unreachable}"
    )
    node_exporter = f"http://{loaded_prometheus.node_targets['node']}"
    assert main(["dashboards", "check", "--prometheus", node_exporter]) == 2
    assert (
        f"--prometheus: no Prometheus API at {node_exporter} (GET /api/v1/status/buildinfo "
        "answered HTTP 200); give the URL Grafana's data source uses"
    ) in capsys.readouterr().err  # node_exporter answers every path with its landing page


def test_the_reason_names_the_filter_the_label_or_the_join(
    snake_case_prometheus: Prometheus,
) -> None:
    client = check.PrometheusClient(snake_case_prometheus.url)
    now = time.time()
    window = check.Window(start=now - 7200, end=now, scrape_interval=15)
    assert check.diagnose(
        client, 'sum(aws_lambda_invocations_sum{region="ap-south-1"})', window
    ) == [
        'region="ap-south-1" matches no aws_lambda_invocations_sum series (region is eu-west-1, '
        "us-east-1)"
    ]
    (missing,) = check.diagnose(client, 'aws_lambda_errors_sum{dimension_Team="ops"}', window)
    assert missing.startswith(
        "no aws_lambda_errors_sum series has the label dimension_Team (its labels: "
    )
    assert check.diagnose(
        client, "aws_lambda_invocations_sum and on (account_id) vector(1)", window
    ) == [
        "every series the query reads is there, but the expression keeps none of them (the "
        "two sides of a join or division share no label values)"
    ]
