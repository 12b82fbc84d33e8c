"""What moto cannot create is written down in the manual, not skipped silently.

Moto (checked on 5.2.5) creates through CloudFormation only the resource types it has a model
for; others are skipped with a log warning, and a template whose outputs or properties use
them (!GetAtt) cannot be deployed there at all. Every such type in every template must be
named in the "Tests against moto" section of docs/development.md.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import moto
from moto.cloudformation import parsing

from opsbundle.deployment.stacks import TEMPLATES_DIR, load_template
from tests.integration.deploy.conftest import ROOT

DOC = ROOT / "docs" / "development.md"


def moto_types() -> set[str]:
    for module in pkgutil.iter_modules(moto.__path__):
        try:
            importlib.import_module(f"moto.{module.name}.models")
        except Exception:  # noqa: S112 - services whose models need optional extras
            continue
    parsing.get_model_list.cache_clear()
    parsing.get_model_map.cache_clear()
    return set(parsing.get_model_map())


def template_types(path: Path) -> set[str]:
    resources = load_template(path)["Resources"]
    found = set()
    for name, resource in resources.items():
        stamped = resource[2].values() if name.startswith("Fn::ForEach::") else [resource]
        found |= {r["Type"] for r in stamped if isinstance(r, dict)}
    return found


def test_every_type_moto_cannot_create_is_documented() -> None:
    supported = moto_types()
    assert "AWS::SNS::Topic" in supported and "AWS::Lambda::Function" in supported
    section = DOC.read_text(encoding="utf-8").split("## Tests against moto", 1)[1]
    undocumented = {
        f"{path.name}: {kind}"
        for path in sorted(TEMPLATES_DIR.glob("*.yaml"))
        for kind in template_types(path) - supported
        if f"`{kind}`" not in section
    }
    assert not undocumented, (
        f"add to docs/development.md (Tests against moto): {sorted(undocumented)}"
    )
