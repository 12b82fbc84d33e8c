"""What `opsbundle deploy` deploys: the stacks of one environment, in dependency order.

The plan for an environment is `cloudformation/params/<env>.json`:

    {
      "stack_prefix": "opsbundle-dev",         stacks are named <stack_prefix>-<stack>
      "artifact_bucket": "",                   empty: opsbundle-artifacts-<account>-<region>
      "tags": {"project": "opsbundle"},        optional; on every stack and its resources
      "stacks": {
        "<stack>": {
          "template": "<file>.yaml",           optional; <stack>.yaml under cloudformation/
          "capabilities": ["CAPABILITY_IAM"],  optional; the default shown
          "parameters": {"Name": "value", ...}
        }
      }
    }

Adding a stack is one entry under "stacks". Parameter values are strings (numbers and booleans
are accepted and written as CloudFormation expects them) and may hold references:

    ${output:<stack>.<OutputKey>}   an output of another stack of this environment; the
                                    referenced stack is deployed first
    ${package:<lambda>}             S3 key of that Lambda's zip (a name in packaging.LAMBDAS)
    ${version:<lambda>}             the S3 object version of that zip, as uploaded and checked
    ${artifacts}                    the artifacts bucket
    ${env} ${prefix}                the environment name and its stack_prefix
    ${region} ${account}            the region and account ID being deployed to

A value holding REPLACE_ME is a placeholder that someone must fill in before the stack that
has it is deployed (a GitHub connection, a Slack channel): deploying it fails, naming every
placeholder of the stacks being deployed at once.

Everything here is checked before any AWS call: the environment name, the file's shape, every
reference, and each stack's parameters against its template (unknown names, required
parameters without a value, AllowedValues and AllowedPattern of literal values).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from opsbundle.deployment import report_stack
from opsbundle.exceptions import ConfigError
from report_fn import reports_file

ENVIRONMENTS = ("dev", "staging", "prod")
PROJECT_ROOT = Path(__file__).resolve().parents[2]
TEMPLATES_DIR = PROJECT_ROOT / "cloudformation"
PARAMS_DIR = TEMPLATES_DIR / "params"
DEFAULT_CAPABILITIES = ("CAPABILITY_IAM",)
CAPABILITIES = frozenset({"CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"})
STACK_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,127}$")
REFERENCE = re.compile(r"\$\{([a-z]+)(?::([^}]*))?\}")
SIMPLE_REFERENCES = frozenset({"artifacts", "env", "prefix", "region", "account"})
PLACEHOLDER = "REPLACE_ME"


# --- templates -----------------------------------------------------------------------------


class _TemplateLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short forms (!Ref, !Sub, ...) read as their long forms."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        assert isinstance(node, yaml.MappingNode)
        value = loader.construct_mapping(node, deep=True)
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {"Ref" if suffix == "Ref" else f"Fn::{suffix}": value}


_TemplateLoader.add_multi_constructor("!", _intrinsic)
# CloudFormation reads 2010-09-09 as a string, not a date.
_TemplateLoader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_template(path: Path) -> dict[str, Any]:
    """A template (YAML or JSON) as data; short-form intrinsics become their long forms."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(str(path), f"cannot read the template ({error.strerror})") from None
    try:
        data = yaml.load(text, Loader=_TemplateLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or type(error).__name__
        raise ConfigError(str(path), f"is not valid YAML: {problem}{where}") from None
    if not isinstance(data, dict) or not isinstance(data.get("Resources"), dict):
        raise ConfigError(str(path), "is not a CloudFormation template (no Resources)")
    return data


# --- the plan ------------------------------------------------------------------------------


@dataclass(frozen=True)
class StackSpec:
    """One stack of an environment, with its parameters still holding references."""

    name: str  # short name, the key under "stacks"
    stack_name: str  # the CloudFormation stack name
    template: Path
    parameters: Mapping[str, str]
    capabilities: tuple[str, ...] = DEFAULT_CAPABILITIES
    needs: tuple[str, ...] = ()  # stacks whose outputs it uses
    packages: tuple[str, ...] = ()  # Lambdas whose zips it uses
    reports: Path | None = None  # the reports file its template is rendered from (report_stack)


@dataclass(frozen=True)
class Plan:
    environment: str
    source: Path  # the parameter file
    stack_prefix: str
    artifact_bucket: str | None
    tags: Mapping[str, str]
    stacks: tuple[StackSpec, ...]  # in dependency order
    all_stacks: Mapping[str, StackSpec] = field(default_factory=dict)  # by name, selected or not

    def packages(self) -> list[str]:
        return sorted({name for spec in self.stacks for name in spec.packages})


def load_plan(
    environment: str,
    *,
    params_dir: Path = PARAMS_DIR,
    templates_dir: Path | None = None,
    lambdas: Iterable[str] = (),
    only: Iterable[str] = (),
) -> Plan:
    """The checked plan for `environment`; `only` keeps those stacks (dependency order kept).

    Templates are found in `templates_dir`, by default the parameter directory's parent
    (cloudformation/ for cloudformation/params/).
    """
    templates_dir = params_dir.parent if templates_dir is None else templates_dir
    if environment not in ENVIRONMENTS:
        raise ConfigError("--env", f"must be one of {', '.join(ENVIRONMENTS)}, got {environment!r}")
    source = _display(params_dir / f"{environment}.json")
    data = _read_plan_file(source)
    prefix = data.get("stack_prefix")
    if not isinstance(prefix, str) or not STACK_NAME.match(prefix):
        raise ConfigError(f"{source} stack_prefix", "must be a prefix such as opsbundle-dev")
    bucket = data.get("artifact_bucket") or None
    if bucket is not None and not (
        isinstance(bucket, str) and re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", bucket)
    ):
        raise ConfigError(f"{source} artifact_bucket", f"{bucket!r} is not a valid S3 bucket name")
    stacks = data.get("stacks")
    if not isinstance(stacks, dict) or not stacks:
        raise ConfigError(f"{source} stacks", "must be a non-empty object of stack entries")

    found = frozenset(lambdas)
    specs = {
        name: _stack_spec(
            name, entry, prefix=prefix, source=source, templates_dir=templates_dir, lambdas=found
        )
        for name, entry in stacks.items()
    }
    for spec in specs.values():
        _check_references(spec, specs, source)
    chosen = _choose(dependency_order(specs.values()), list(only), source)
    return Plan(
        environment=environment,
        source=source,
        stack_prefix=prefix,
        artifact_bucket=bucket,
        tags=_string_map(data.get("tags", {}), f"{source} tags"),
        stacks=chosen,
        all_stacks=specs,
    )


def _read_plan_file(source: Path) -> dict[str, Any]:
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(str(source), "does not exist (one file per environment)") from None
    except json.JSONDecodeError as error:
        problem = f"is not valid JSON ({error.msg} at line {error.lineno})"
        raise ConfigError(str(source), problem) from None
    if not isinstance(data, dict):
        raise ConfigError(str(source), "must be a JSON object")
    known = {"stack_prefix", "artifact_bucket", "tags", "stacks", "description"}
    if unknown := sorted(set(data) - known):
        listed = ", ".join(sorted(known))
        raise ConfigError(str(source), f"unknown key {unknown[0]!r} (known: {listed})")
    return data


def _choose(ordered: list[StackSpec], wanted: list[str], source: Path) -> tuple[StackSpec, ...]:
    """The stacks to deploy (all, or --only), with no placeholder left in them."""
    names = [spec.name for spec in ordered]
    if unknown := [name for name in wanted if name not in names]:
        listed = ", ".join(names)
        raise ConfigError("--only", f"no stack {unknown[0]!r} in {source.name} (has: {listed})")
    chosen = tuple(spec for spec in ordered if not wanted or spec.name in wanted)
    left = [
        (spec, key, value)
        for spec in chosen
        for key, value in spec.parameters.items()
        if PLACEHOLDER in value
    ]
    if len(left) == 1:
        spec, key, value = left[0]
        raise ConfigError(
            f"{source} stacks.{spec.name}.parameters.{key}",
            f"is a placeholder ({value}): set it before deploying {spec.name}",
        )
    if left:  # every one at once: a run per placeholder would be a run too many
        listed = ", ".join(f"stacks.{spec.name}.parameters.{key}" for spec, key, _ in left)
        raise ConfigError(
            str(source), f"{len(left)} placeholders ({PLACEHOLDER}) to set first: {listed}"
        )
    return chosen


def _display(path: Path) -> Path:
    """The path relative to the working directory when it is under it: shorter errors."""
    try:
        return path.resolve().relative_to(Path.cwd())
    except ValueError:
        return path


def _string_map(value: object, where: str) -> dict[str, str]:
    """JSON values as CloudFormation parameter strings (true -> "true", 90 -> "90")."""
    if not isinstance(value, dict):
        raise ConfigError(where, "must be an object of strings")
    result = {}
    for key, item in value.items():
        text = ("true" if item else "false") if isinstance(item, bool) else item
        text = str(text) if isinstance(text, int | float) else text
        if not isinstance(text, str):
            raise ConfigError(f"{where}.{key}", f"must be a string, got {type(item).__name__}")
        result[str(key)] = text
    return result


def _stack_spec(
    name: str,
    entry: object,
    *,
    prefix: str,
    source: Path,
    templates_dir: Path,
    lambdas: frozenset[str],
) -> StackSpec:
    where = f"{source} stacks.{name}"
    if not re.fullmatch(r"[a-z][a-z0-9-]{0,40}", name):
        raise ConfigError(where, "stack names are lower case letters, digits and dashes")
    if not isinstance(entry, dict):
        raise ConfigError(where, "must be an object with template and parameters")
    if unknown := sorted(set(entry) - {"template", "parameters", "capabilities"}):
        known = "template, parameters, capabilities"
        raise ConfigError(where, f"unknown key {unknown[0]!r} (known: {known})")
    template_name = entry.get("template", f"{name}.yaml")
    if not isinstance(template_name, str) or "/" in template_name or "\\" in template_name:
        raise ConfigError(f"{where}.template", "must be a file name under cloudformation/")
    template = _display(templates_dir / template_name)
    if not template.is_file():
        raise ConfigError(f"{where}.template", f"{template} does not exist")
    capabilities = entry.get("capabilities", list(DEFAULT_CAPABILITIES))
    if not isinstance(capabilities, list) or not set(capabilities) <= CAPABILITIES:
        listed = ", ".join(sorted(CAPABILITIES))
        raise ConfigError(f"{where}.capabilities", f"must be a list from {listed}")
    parameters = _string_map(entry.get("parameters", {}), f"{where}.parameters")
    needs: list[str] = []
    packages: list[str] = []
    for key, value in parameters.items():
        for kind, argument in REFERENCE.findall(value):
            target = _reference(
                kind, argument, stack=name, lambdas=lambdas, where=f"{where}.parameters.{key}"
            )
            (needs if kind == "output" else packages).extend([target] if target else [])
    _check_against_template(template, parameters, where)
    return StackSpec(
        name=name,
        stack_name=f"{prefix}-{name}",
        template=template,
        parameters=parameters,
        capabilities=tuple(capabilities),
        needs=tuple(dict.fromkeys(needs)),
        packages=tuple(dict.fromkeys(packages)),
        reports=_reports_file(template, templates_dir.parent, parameters, where),
    )


def _reports_file(
    template: Path, root: Path, parameters: Mapping[str, str], where: str
) -> Path | None:
    """The reports file the report template is rendered from, checked; None without one.
    A bad file stops the deploy here, before any AWS call."""
    path = _display(root / report_stack.REPORTS_FILE)
    if not report_stack.renders(template) or not path.is_file():
        return None
    reports_file.load(path)  # raises ConfigError: one line naming the report and the field
    if report_stack.EXPRESSION_PARAMETER in parameters:
        raise ConfigError(
            f"{where}.parameters.{report_stack.EXPRESSION_PARAMETER}",
            f"{path} gives every report its own schedule: remove this parameter",
        )
    return path


def _reference(kind: str, argument: str, *, stack: str, lambdas: frozenset[str], where: str) -> str:
    """Check one reference: the stack an output comes from, the Lambda a key names, or ""."""
    if kind == "output":
        other, _, output = argument.partition(".")
        if not other or not output:
            raise ConfigError(where, f"${{output:{argument}}} must be ${{output:<stack>.<Output>}}")
        if other == stack:
            raise ConfigError(where, "a stack cannot use its own outputs")
        return other
    if kind in ("package", "version"):
        if argument not in lambdas:
            known = ", ".join(sorted(lambdas)) or "none"
            raise ConfigError(where, f"no Lambda {argument!r} is packaged (known: {known})")
        return argument
    if kind not in SIMPLE_REFERENCES or argument:
        shown = f"{kind}:{argument}" if argument else kind
        raise ConfigError(where, f"unknown reference ${{{shown}}}")
    return ""


def _check_against_template(template: Path, parameters: Mapping[str, str], where: str) -> None:
    declared = load_template(template).get("Parameters") or {}
    if unknown := [key for key in parameters if key not in declared]:
        raise ConfigError(
            f"{where}.parameters.{unknown[0]}", f"{template.name} has no such parameter"
        )
    for key, declaration in declared.items():
        value = parameters.get(key)
        if value is None:
            if "Default" not in declaration:
                raise ConfigError(
                    f"{where}.parameters.{key}", f"is required by {template.name} and has no value"
                )
            continue
        if REFERENCE.search(value) or PLACEHOLDER in value:
            continue  # checked once resolved, by CloudFormation
        allowed = [
            str(v).lower() if isinstance(v, bool) else str(v)
            for v in declaration.get("AllowedValues", [])
        ]
        if allowed and value not in allowed:
            raise ConfigError(
                f"{where}.parameters.{key}", f"must be one of {', '.join(allowed)}, got {value!r}"
            )
        pattern = declaration.get("AllowedPattern")
        if (
            pattern
            and declaration.get("Type", "String") == "String"
            and not re.fullmatch(pattern, value)
        ):
            hint = declaration.get("ConstraintDescription") or f"AllowedPattern {pattern}"
            raise ConfigError(f"{where}.parameters.{key}", f"{value!r} does not match: {hint}")


def _check_references(spec: StackSpec, specs: Mapping[str, StackSpec], source: Path) -> None:
    for key, value in spec.parameters.items():
        for kind, argument in REFERENCE.findall(value):
            if kind != "output":
                continue
            stack, _, output = argument.partition(".")
            where = f"{source} stacks.{spec.name}.parameters.{key}"
            if stack not in specs:
                raise ConfigError(where, f"${{output:{argument}}} names no stack in this file")
            outputs = load_template(specs[stack].template).get("Outputs") or {}
            if output not in outputs:
                raise ConfigError(where, f"{specs[stack].template.name} has no output {output!r}")


def dependency_order(specs: Iterable[StackSpec]) -> list[StackSpec]:
    """Each stack after the stacks it needs; otherwise in the file's order. Cycles are errors."""
    pending = list(specs)
    done: list[StackSpec] = []
    names_done: set[str] = set()
    while pending:
        ready = [spec for spec in pending if set(spec.needs) <= names_done]
        if not ready:
            cycle = ", ".join(f"{s.name} needs {'/'.join(s.needs)}" for s in pending)
            raise ConfigError("stacks", f"their outputs depend on each other in a cycle: {cycle}")
        first = ready[0]
        done.append(first)
        names_done.add(first.name)
        pending.remove(first)
    return done


# --- resolving references -------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """What references resolve to at deploy time."""

    environment: str
    stack_prefix: str
    region: str
    account: str
    artifact_bucket: str
    package_keys: Mapping[str, str]  # lambda -> S3 key
    package_versions: Mapping[str, str]  # lambda -> S3 object version of its zip
    outputs: Mapping[str, Mapping[str, str]]  # stack short name -> its outputs


def resolve(spec: StackSpec, context: Context) -> dict[str, str]:
    """The stack's parameters with every reference replaced; names what is missing."""

    def replace(match: re.Match[str], key: str) -> str:
        kind, argument = match.group(1), match.group(2) or ""
        if kind == "output":
            stack, _, output = argument.partition(".")
            outputs = context.outputs.get(stack)
            if outputs is None:
                env = context.environment
                raise ConfigError(
                    f"{spec.name}.{key}",
                    f"needs stack {stack!r}, which is not deployed in {env}: "
                    f"deploy it first (opsbundle deploy --env {env} --only {stack})",
                )
            if output not in outputs:
                raise ConfigError(
                    f"{spec.name}.{key}",
                    f"stack {stack!r} has no output {output!r} (is its condition false?)",
                )
            return outputs[output]
        if kind == "package":
            return context.package_keys[argument]
        if kind == "version":
            return context.package_versions[argument]
        simple = {"artifacts": context.artifact_bucket, "env": context.environment,
                  "prefix": context.stack_prefix, "region": context.region,
                  "account": context.account}  # fmt: skip  # laid out as a table
        return simple[kind]

    return {
        key: REFERENCE.sub(lambda match, key=key: replace(match, key), value)  # type: ignore[misc]
        for key, value in spec.parameters.items()
    }
