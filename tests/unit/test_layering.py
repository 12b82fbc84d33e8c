"""The import graph the layout promises, read from the source (every import statement,
module level or not):

1. a part (report_fn, log_shipper, monitors, dashboards, audit) imports itself and the shared
   package, `opsbundle`; never another part;
2. of `opsbundle`, a part imports the runtime core (opsbundle less packaging.BUILD_ONLY); the
   deploy tooling only from its CLI module and inside the command that needs it (`opsbundle
   audit --env` reads the parameter files), since the Lambda zips leave the tooling out and
   never run a CLI command;
3. the runtime core imports no part and no deploy tooling: it ships in every Lambda zip,
   which holds no other part and no deploy tooling;
4. so each Lambda's zip (packaging.LAMBDAS) holds every first-party module its code imports
   (but what rule 2 allows a CLI command).

The deploy tooling may import the core and what a stack is made from (report_fn's reports
file renders the report stack). The CLI (opsbundle.cli) finds each part's commands by module
name, at run time: it is the one place that knows every part.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from opsbundle.packaging import BUILD_ONLY, LAMBDAS

ROOT = Path(__file__).resolve().parents[2]
PARTS = ("report_fn", "log_shipper", "monitors", "dashboards", "audit")
FIRST_PARTY = (*PARTS, "opsbundle")
TOOLING = frozenset(path.removesuffix(".py").replace("/", ".") for path in BUILD_ONLY)


def modules(package: str) -> Iterator[tuple[str, Path]]:
    for path in sorted((ROOT / package).rglob("*.py")):
        relative = path.relative_to(ROOT).with_suffix("")
        name = ".".join(relative.parts).removesuffix(".__init__")
        yield name, path


def imports(path: Path, module: str, *, in_functions: bool = True) -> set[str]:
    """Every first-party module `path` imports, by its full name (with `in_functions` False,
    only those it imports when it is imported itself)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    tree = ast.parse(path.read_text(), str(path))
    nodes = ast.walk(tree) if in_functions else _module_level(tree)
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parents = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parents, base] if base else parents)
            found.update(f"{base}.{alias.name}" for alias in node.names)
            found.add(base)
    return {name for name in found if name.split(".")[0] in FIRST_PARTY}


def _module_level(tree: ast.AST) -> Iterator[ast.AST]:
    """The nodes run on import: all but function bodies."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            stack.extend(ast.iter_child_nodes(node))


def command_tooling(name: str, path: Path) -> set[str]:
    """The deploy tooling a part's CLI module imports inside its commands (rule 2)."""
    if not name.endswith(".cli"):
        return set()
    return {
        imported
        for imported in imports(path, name) - imports(path, name, in_functions=False)
        if tooling(imported)
    }


def tooling(name: str) -> bool:
    return any(name == module or name.startswith(module + ".") for module in TOOLING)


def runtime_core() -> Iterator[tuple[str, Path]]:
    for name, path in modules("opsbundle"):
        if not tooling(name):
            yield name, path


@pytest.mark.parametrize("part", PARTS)
def test_a_part_imports_itself_and_opsbundle_never_another_part(part: str) -> None:
    wrong = []
    for name, path in modules(part):
        for imported in sorted(imports(path, name)):
            if imported.split(".")[0] not in (part, "opsbundle"):
                wrong.append(f"{name} imports {imported}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("part", PARTS)
def test_a_part_imports_the_deploy_tooling_only_in_a_cli_command(part: str) -> None:
    wrong = []
    for name, path in modules(part):
        allowed = command_tooling(name, path)
        for imported in sorted(imports(path, name)):
            if tooling(imported) and imported not in allowed:
                wrong.append(f"{name} imports {imported}")
    assert not wrong, "\n".join(wrong)


def test_the_runtime_core_imports_no_part_and_no_deploy_tooling() -> None:
    wrong = []
    for name, path in runtime_core():
        for imported in sorted(imports(path, name)):
            if imported.split(".")[0] != "opsbundle" or tooling(imported):
                wrong.append(f"{name} imports {imported}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("lambda_name", sorted(LAMBDAS))
def test_each_lambda_zip_holds_what_its_code_imports(lambda_name: str) -> None:
    shipped = LAMBDAS[lambda_name].packages
    wrong = []
    for package in shipped:
        for name, path in modules(package):
            if tooling(name):
                continue  # not in the zip
            allowed = command_tooling(name, path)
            for imported in sorted(imports(path, name) - allowed):
                if imported.split(".")[0] not in shipped or tooling(imported):
                    wrong.append(f"{name} imports {imported}")
    assert not wrong, "\n".join(wrong)


def test_the_rules_see_every_import_form() -> None:
    """The reader is what the rules stand on: it must see relative, nested and from-imports."""
    source = ROOT / "monitors" / "unhealthy_targets" / "monitor.py"
    found = imports(source, "monitors.unhealthy_targets.monitor")
    assert "monitors.unhealthy_targets.render" in found  # from monitors.unhealthy_targets import
    assert "opsbundle.notify" in found
    metrics = imports(ROOT / "opsbundle" / "metrics.py", "opsbundle.metrics")
    assert "opsbundle.pushgateway" in metrics  # imported inside a function
    assert {"opsbundle.packaging", "opsbundle.deploy", "opsbundle.stacks"} <= TOOLING
    audit_cli = ROOT / "audit" / "cli.py"
    assert "opsbundle.stacks" in command_tooling("audit.cli", audit_cli)  # in --env's function
    assert "opsbundle.stacks" not in imports(audit_cli, "audit.cli", in_functions=False)
