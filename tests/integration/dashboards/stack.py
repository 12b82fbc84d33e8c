"""A real Prometheus, Pushgateway and node_exporter (Debian's `prometheus`,
`prometheus-pushgateway` and `prometheus-node-exporter`) on 127.0.0.1, started and stopped by
the tests, with a PromQL client that expands the Grafana variables a dashboard query uses the
way Grafana would.
"""

from __future__ import annotations

import contextlib
import math
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests
import yaml

if TYPE_CHECKING:  # the fixture's type only: conftest imports this module
    from tests.integration.dashboards.conftest import LoadedPrometheus

PROMETHEUS = Path("/usr/bin/prometheus")
PROMTOOL = Path("/usr/bin/promtool")
PUSHGATEWAY = Path("/usr/bin/prometheus-pushgateway")
NODE_EXPORTER = Path("/usr/bin/prometheus-node-exporter")
INSTALL_HINT = "run scripts/ensure-system-packages (or make system-packages)"


def require(binary: Path) -> str:
    if not binary.exists() and shutil.which(binary.name) is None:
        pytest.fail(f"{binary} is missing: {INSTALL_HINT}")
    return str(binary if binary.exists() else shutil.which(binary.name))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"{url} exited with {process.returncode}:\n{log.read_text()[-3000:]}"
            )
        with contextlib.suppress(requests.RequestException):
            if requests.get(url, timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{url} not ready after {timeout}s:\n{log.read_text()[-3000:]}")


@dataclass
class Process:
    """A child process with its log file; stop() ends it (and only it)."""

    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def _spawn(args: Sequence[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603


@dataclass
class Pushgateway:
    url: str
    proc: Process

    @classmethod
    def start(cls, workdir: Path) -> Pushgateway:
        port = free_port()
        log = workdir / "pushgateway.log"
        # Debian builds the Pushgateway with --persistence.file=/var/lib/prometheus/
        # pushgateway.data as the default: without an empty one, every test's "fresh" gateway
        # would load (and on exit save) the groups earlier test sessions pushed, and a stale
        # last-seen timestamp would count as one more change in the dashboards' changes().
        args = [
            require(PUSHGATEWAY),
            f"--web.listen-address=127.0.0.1:{port}",
            "--persistence.file=",
        ]
        process = _spawn(args, log)
        url = f"http://127.0.0.1:{port}"
        _wait_ready(f"{url}/-/ready", process, log)
        gateway = cls(url, Process(process, log))
        if leftover := gateway.groups():
            gateway.proc.stop()
            raise RuntimeError(f"the new Pushgateway is not empty: {leftover!r:.500}")
        return gateway

    def groups(self) -> list[dict[str, Any]]:
        answer = requests.get(f"{self.url}/api/v1/metrics", timeout=5)
        answer.raise_for_status()
        return list(answer.json()["data"])


@dataclass
class NodeExporter:
    """The real node_exporter with its default collectors, describing this machine."""

    address: str  # host:port, as a scrape target
    proc: Process

    @classmethod
    def start(cls, workdir: Path) -> NodeExporter:
        port = free_port()
        log = workdir / "node-exporter.log"
        process = _spawn([require(NODE_EXPORTER), f"--web.listen-address=127.0.0.1:{port}"], log)
        _wait_ready(f"http://127.0.0.1:{port}/metrics", process, log)
        return cls(f"127.0.0.1:{port}", Process(process, log))


@dataclass
class Prometheus:
    url: str
    proc: Process
    config: Path
    scrape_interval_seconds: float

    @classmethod
    def start(
        cls,
        workdir: Path,
        *,
        scrape_targets: Sequence[str] = (),
        scrape_jobs: Mapping[str, Sequence[str]] | None = None,
        rule_files: Sequence[Path] = (),
        backfill: Path | None = None,
        scrape_interval: str = "1s",
    ) -> Prometheus:
        """Start Prometheus on a free port with a fresh data dir (backfilled first if given).

        `scrape_targets` are Pushgateways (scraped with honor_labels); `scrape_jobs` maps a job
        name to the exporters it scrapes as they are (job and instance from the target)."""
        data = workdir / "data"
        data.mkdir(parents=True)
        if backfill is not None:
            subprocess.run(  # noqa: S603
                [
                    require(PROMTOOL),
                    "tsdb",
                    "create-blocks-from",
                    "openmetrics",
                    str(backfill),
                    str(data),
                ],
                check=True,
                capture_output=True,
                timeout=120,
            )
        config = workdir / "prometheus.yml"
        scrape_configs = [
            {
                "job_name": "pushgateway",
                "honor_labels": True,
                "static_configs": [{"targets": [target]}],
            }
            for target in scrape_targets
        ]
        scrape_configs += [
            {"job_name": job, "static_configs": [{"targets": list(targets)}]}
            for job, targets in (scrape_jobs or {}).items()
        ]
        config.write_text(
            yaml.safe_dump(
                {
                    "global": {
                        "scrape_interval": scrape_interval,
                        "evaluation_interval": scrape_interval,
                    },
                    "rule_files": [str(p) for p in rule_files],
                    "scrape_configs": scrape_configs,
                }
            )
        )
        port = free_port()
        log = workdir / "prometheus.log"
        process = _spawn(
            [
                require(PROMETHEUS),
                f"--config.file={config}",
                f"--storage.tsdb.path={data}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--storage.tsdb.retention.time=2d",
            ],
            log,
        )
        url = f"http://127.0.0.1:{port}"
        _wait_ready(f"{url}/-/ready", process, log)
        seconds = float(scrape_interval.rstrip("s"))
        return cls(url, Process(process, log), config, seconds)

    # -- PromQL ----------------------------------------------------------------------------

    def api(self, path: str, **params: Any) -> Any:
        answer = requests.get(f"{self.url}/api/v1/{path}", params=params, timeout=30)
        body = answer.json()
        if body.get("status") != "success":
            raise AssertionError(f"Prometheus rejected {params}: {body.get('error')}")
        return body["data"]

    def query_range(self, expr: str, *, start: float, end: float, step: float) -> list[Any]:
        data = self.api("query_range", query=expr, start=start, end=end, step=step)
        assert data["resultType"] == "matrix"
        return list(data["result"])

    def label_values(self, label: str, selector: str, *, start: float, end: float) -> list[str]:
        return sorted(
            self.api(f"label/{label}/values", **{"match[]": selector}, start=start, end=end)
        )

    def rules(self) -> list[dict[str, Any]]:
        return [rule for group in self.api("rules")["groups"] for rule in group["rules"]]

    def log_tail(self) -> str:
        return self.proc.log.read_text()[-2000:]

    def targets_up(self) -> bool:
        active = self.api("targets")["activeTargets"]
        return bool(active) and all(t["health"] == "up" for t in active)


def numbers(result: Sequence[Mapping[str, Any]]) -> list[float]:
    """Every finite value of a range query result."""
    values = [float(v) for series in result for _, v in series["values"]]
    return [v for v in values if math.isfinite(v)]


@dataclass
class GrafanaVariables:
    """Expands `$var`, `${var}` and Grafana's interval macros the way Grafana does before it
    sends a query to Prometheus: a multi-value selection becomes a regex alternation."""

    values: dict[str, list[str]] = field(default_factory=dict)
    rate_interval: str = "1m"
    range_seconds: int = 3600
    all_values: dict[str, str] = field(default_factory=dict)  # "All" → the variable's allValue

    def expand(self, text: str) -> str:
        macros = {
            "__rate_interval": self.rate_interval,
            "__interval": "15s",
            "__range": f"{self.range_seconds}s",
        }

        def replace(match: re.Match[str]) -> str:
            name = match.group(1) or match.group(2)
            if name in macros:
                return macros[name]
            if name in self.all_values:
                return self.all_values[name]
            if name not in self.values:
                raise AssertionError(f"${name} is not a variable of the dashboard: {text}")
            # Multi-value variables are regex-escaped, and the backslashes doubled for the
            # PromQL string literal (Grafana's prometheusSpecialRegexEscape).
            chosen = [re.escape(v).replace("\\", "\\\\") for v in self.values[name]]
            return chosen[0] if len(chosen) == 1 else "(" + "|".join(chosen) + ")"

        return re.sub(r"\$\{(\w+)\}|\$(\w+)", replace, text)


LABEL_VALUES = re.compile(r"^label_values\((?P<selector>.*),\s*(?P<label>\w+)\)$", re.S)


def parse_label_values(query: str) -> tuple[str, str]:
    match = LABEL_VALUES.match(query.strip())
    assert match, f"not a label_values() query: {query}"
    return match.group("selector").strip(), match.group("label")


def resolve_variables(
    loaded: LoadedPrometheus, board: dict[str, Any], *, first_only: bool
) -> GrafanaVariables:
    """Each query variable in order, as Grafana resolves them: a chained variable's query is
    expanded with the selection of the variables before it; "All" of a variable with an
    allValue is that value."""
    start, end, _ = loaded.window(board["uid"])
    variables = GrafanaVariables(range_seconds=int(end - start))
    for variable in board["templating"]["list"]:
        if variable["type"] != "query":
            continue
        selector, label = parse_label_values(variable["query"])
        values = loaded.prometheus.label_values(
            label, variables.expand(selector), start=start, end=end
        )
        assert values, f"{board['uid']}: ${variable['name']} ({variable['query']}) has no values"
        variables.values[variable["name"]] = values[:1] if first_only else values
        if variable.get("allValue") and not first_only:
            variables.all_values[variable["name"]] = variable["allValue"]
    return variables
