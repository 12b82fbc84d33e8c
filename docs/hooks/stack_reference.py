"""MkDocs hook: what the manual says about the stacks' resources and parameters is read from the
CloudFormation templates and parameter files at build time, so it can never fall behind them.

A page asks for one with a line of its own, `<!-- stack-resources: report.yaml -->` (a
template in `cloudformation/`). The line becomes a Mermaid flowchart: one box per resource
(logical ID and type), grouped by AWS service; an arrow from a resource to each resource its
properties name (`Ref`, `Fn::GetAtt`, `${...}` in `Fn::Sub`); a dashed box for a resource
created only under a condition, named in the box; a `Fn::ForEach` template drawn once, as
"one per" its collection; a stack's alarms (or Lambda permissions, or SNS subscriptions), when
it has three or more, drawn as one box that lists them.

`<!-- stack-dependencies: prod.json -->` draws the stacks of a parameter file instead: an
arrow from a stack to each stack whose outputs it takes (`${output:<stack>.<Output>}`,
labelled with the outputs), and from a stack to the Lambda zip it deploys
(`${package:<lambda>}`): the order `opsbundle deploy` and the pipeline follow.

`<!-- lambda-functions -->` becomes a table of every Lambda function the templates create:
its template and logical ID, its handler, runtime and architecture, and the zip it runs from.

`<!-- stack-parameters: report.yaml -->` becomes the table of a template's parameters: name,
default (or "required"), allowed values, and the template's own description.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError

from opsbundle.deployment.stacks import load_template

TEMPLATES = Path(__file__).resolve().parents[2] / "cloudformation"
MARKER = re.compile(r"^<!-- stack-resources: ([a-z0-9-]+\.yaml) -->$", re.MULTILINE)
DEPENDENCIES = re.compile(r"^<!-- stack-dependencies: ([a-z0-9-]+\.json) -->$", re.MULTILINE)
PARAMETERS = re.compile(r"^<!-- stack-parameters: ([a-z0-9-]+\.yaml) -->$", re.MULTILINE)
FUNCTIONS = re.compile(r"^<!-- lambda-functions -->$", re.MULTILINE)
OUTPUT = re.compile(r"\$\{output:([a-z0-9-]+)\.([A-Za-z0-9]+)\}")
PACKAGE = re.compile(r"\$\{package:([a-z_]+)\}")
SUB_NAME = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}")
FOR_EACH = "Fn::ForEach::"
GROUPED = frozenset({"CloudWatch::Alarm", "Lambda::Permission", "SNS::Subscription"})
GROUP_FROM = 3  # this many of one of those kinds in a stack are drawn as one box


def resources(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], str]]:
    """(node id, resource, what it is made for) for each resource; a loop gives one."""
    for key, value in template["Resources"].items():
        if key.startswith(FOR_EACH) and isinstance(value, list) and len(value) == 3:
            collection = value[1].get("Ref", key[len(FOR_EACH) :])
            for name, body in value[2].items():
                yield re.sub(r"&\{\w+\}", "", name) + "Each", body, f"one per {collection}"
        else:
            yield key, value, ""


def names_in(value: Any) -> Iterator[str]:
    """Every logical ID a property value refers to."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                yield inner
            elif key == "Fn::GetAtt":
                yield inner[0] if isinstance(inner, list) else str(inner).split(".", 1)[0]
            elif key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) else inner
                yield from SUB_NAME.findall(text) if isinstance(text, str) else ()
                if isinstance(inner, list) and len(inner) > 1:
                    yield from names_in(inner[1])
            else:
                yield from names_in(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from names_in(inner)


def diagram(template_name: str) -> str:
    """The Mermaid source of one template's resources."""
    path = TEMPLATES / template_name
    if not path.is_file():
        raise PluginError(f"stack-resources: no template {path}")
    nodes = list(resources(load_template(path)))
    kinds = {
        node_id: str(body.get("Type", "?")).removeprefix("AWS::") for node_id, body, _ in nodes
    }
    counts = Counter(kinds.values())
    # A stack's many alarms (or permissions, subscriptions) are one box listing them.
    box = {
        node_id: f"many_{kind.replace('::', '_')}"
        if kind in GROUPED and counts[kind] >= GROUP_FROM
        else node_id
        for node_id, kind in kinds.items()
    }
    shapes: dict[str, dict[str, str]] = defaultdict(dict)  # service → box → its shape
    members: dict[str, list[str]] = defaultdict(list)
    edges: dict[str, None] = {}
    for node_id, resource, loop in nodes:
        kind, here = kinds[node_id], box[node_id]
        service = kind.split("::", 1)[0]
        notes = [note for note in (loop, _condition(resource)) if note]
        members[here].append(node_id + (f" ({'; '.join(notes)})" if notes else ""))
        if here == node_id:
            label = "<br/>".join([node_id.removesuffix("Each") if loop else node_id, kind, *notes])
            style = ":::conditional" if notes else ""
            shapes[service][here] = f'{here}["{label}"]{style}'
        for name in names_in(resource.get("Properties", {})):
            if name in box and box[name] != here:
                edges[f"  {here} --> {box[name]}"] = None
    lines = ["flowchart LR"]
    for service, boxes in sorted(shapes.items()):
        lines.append(f"  subgraph service_{service}[{service}]")
        lines.extend(f"    {shape}" for shape in boxes.values())
        lines.append("  end")
    for here, names in members.items():
        if here.startswith("many_"):
            kind = kinds[names[0].split(" ", 1)[0]]
            label = "<br/>".join([f"{len(names)} × {kind}", *names])
            lines.append(f'  {here}["{label}"]')
    lines.extend(edges)
    lines.append("  classDef conditional stroke-dasharray: 5 4")
    return "\n".join(lines)


def _condition(resource: dict[str, Any]) -> str:
    condition = resource.get("Condition")
    return f"if {condition}" if isinstance(condition, str) else ""


def dependencies(params_name: str) -> str:
    """The Mermaid source of a parameter file's stacks and what each takes from the others."""
    path = TEMPLATES / "params" / params_name
    if not path.is_file():
        raise PluginError(f"stack-dependencies: no parameter file {path}")
    plan = json.loads(path.read_text(encoding="utf-8"))
    prefix = plan["stack_prefix"]
    lines = ["flowchart LR"]
    edges = []
    zips = set()
    for stack, entry in plan["stacks"].items():
        node = _node_id(stack)
        lines.append(f'  {node}["{prefix}-{stack}<br/>{entry.get("template", stack + ".yaml")}"]')
        taken: dict[str, list[str]] = defaultdict(list)
        for value in entry.get("parameters", {}).values():
            for upstream, output in OUTPUT.findall(str(value)):
                if output not in taken[upstream]:
                    taken[upstream].append(output)
            for package in PACKAGE.findall(str(value)):
                zips.add(package)
                edges.append(f"  {node} -. code .-> zip_{package}")
        for upstream, outputs in taken.items():
            edges.append(f'  {node} -- "{"<br/>".join(outputs)}" --> {_node_id(upstream)}')
    lines.extend(f'  zip_{name}[/"dist/{name}.zip"/]' for name in sorted(zips))
    return "\n".join(lines + edges)


def functions_table(params_name: str = "prod.json") -> str:
    """A Markdown table of every AWS::Lambda::Function in the templates."""
    plan = json.loads((TEMPLATES / "params" / params_name).read_text(encoding="utf-8"))
    packages = {}  # code-key parameter of a template → the zip it names
    for stack, entry in plan["stacks"].items():
        for parameter, value in entry.get("parameters", {}).items():
            for package in PACKAGE.findall(str(value)):
                packages[(entry.get("template", f"{stack}.yaml"), parameter)] = package
    rows = ["| template | function | handler | runtime | zip |", "|---|---|---|---|---|"]
    for path in sorted(TEMPLATES.glob("*.yaml")):
        for node_id, resource, _ in resources(load_template(path)):
            if resource.get("Type") != "AWS::Lambda::Function":
                continue
            properties = resource.get("Properties", {})
            key = properties.get("Code", {}).get("S3Key", {})
            package = (
                packages.get((path.name, key.get("Ref")), "?") if isinstance(key, dict) else "?"
            )
            architecture = "/".join(properties.get("Architectures", ["x86_64"]))
            rows.append(
                f"| `{path.name}` | `{node_id}` | `{properties.get('Handler')}` "
                f"| {properties.get('Runtime')} on {architecture} | `dist/{package}.zip` |"
            )
    return "\n".join(rows)


def parameters_table(template_name: str) -> str:
    """A Markdown table of one template's parameters, as the template describes them."""
    path = TEMPLATES / template_name
    if not path.is_file():
        raise PluginError(f"stack-parameters: no template {path}")
    rows = ["| parameter | default | meaning |", "|---|---|---|"]
    for name, spec in load_template(path).get("Parameters", {}).items():
        default = spec.get("Default")
        shown = "required" if default is None else f"`{default}`" if str(default) else "empty"
        meaning = " ".join(str(spec.get("Description", "")).split())
        allowed = spec.get("AllowedValues")
        if allowed:
            meaning += " One of " + ", ".join(f"`{value}`" for value in allowed) + "."
        rows.append(f"| `{name}` | {shown} | {_cell(meaning)} |")
    return "\n".join(rows)


def _cell(text: str) -> str:
    """Plain text as a table cell: no HTML (`<Environment>`), no emphasis (`billing-*`), no
    column break; the template's own `code spans` are kept as they are."""
    parts = text.split("`")
    for index in range(0, len(parts), 2):  # outside the code spans
        parts[index] = (
            parts[index].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("*", "\\*").replace("_", "\\_")
        )  # fmt: skip
    return "`".join(parts).replace("|", "\\|")


def _node_id(stack: str) -> str:
    return "stack_" + stack.replace("-", "_")


def on_page_markdown(markdown: str, **_: Any) -> str:
    markdown = MARKER.sub(lambda match: _fence(diagram(match.group(1))), markdown)
    markdown = DEPENDENCIES.sub(lambda match: _fence(dependencies(match.group(1))), markdown)
    markdown = PARAMETERS.sub(lambda match: parameters_table(match.group(1)), markdown)
    return FUNCTIONS.sub(lambda _: functions_table(), markdown)


def _fence(source: str) -> str:
    return f"```mermaid\n{source}\n```"
