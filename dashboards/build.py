"""Build every dashboard to JSON, and the alert rules next to them, in one output folder.

`opsbundle dashboards build` (and `make dashboards`) writes `<uid>.json` per dashboard and
`rules/<name>.yml` per rule file into `dashboards/generated/` unless told otherwise. The
output is deterministic (sorted keys, fixed layout), so a rebuild without changes is a no-op
in git.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from dashboards import containers, ec2_hosts, lambda_health, load_balancers, opsbundle_self, rds

HERE = Path(__file__).parent
DEFAULT_OUT_DIR = HERE / "generated"
RULES_DIR = HERE / "rules"
RUNBOOK_ANCHOR = "README.md#"  # runbook_url in the rule sources, relative to the repo

BUILDERS: Mapping[str, Callable[[], dict[str, Any]]] = MappingProxyType(
    {
        "lambda_health": lambda_health.build,
        "load_balancers": load_balancers.build,
        "ec2_hosts": ec2_hosts.build,
        "rds": rds.build,
        "containers": containers.build,
        "opsbundle_self": opsbundle_self.build,
    }
)


def build_all() -> dict[str, dict[str, Any]]:
    """Every dashboard's JSON model, by module name."""
    return {name: build() for name, build in BUILDERS.items()}


def to_json(board: Mapping[str, Any]) -> str:
    return json.dumps(board, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def rule_files() -> list[Path]:
    return sorted(RULES_DIR.glob("*.yml"))


def render_rules(text: str, runbook_base_url: str | None) -> str:
    """Rule file text with `runbook_url`s made absolute when a base URL is given."""
    if not runbook_base_url:
        return text
    base = runbook_base_url.rstrip("/")
    return text.replace(f"runbook_url: {RUNBOOK_ANCHOR}", f"runbook_url: {base}/{RUNBOOK_ANCHOR}")


def write_all(out_dir: Path | None = None, *, runbook_base_url: str | None = None) -> list[Path]:
    """Write the dashboards and rules; returns the files written."""
    out = out_dir or DEFAULT_OUT_DIR
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for board in build_all().values():
        path = out / f"{board['uid']}.json"
        path.write_text(to_json(board), encoding="utf-8")
        written.append(path)
    rules_out = out / "rules"
    rules_out.mkdir(exist_ok=True)
    for source in rule_files():
        target = rules_out / source.name
        target.write_text(render_rules(source.read_text("utf-8"), runbook_base_url), "utf-8")
        written.append(target)
    return written
