"""The manual says what the code does: every command and flag of `opsbundle` is documented on
its part's page, no page names a command, flag, make target or Lambda handler that does not
exist, and the CLI reference the site generates is the parser's own help.

The parser is the one `opsbundle` runs, walked by the same code that writes the CLI reference
page at build time (`docs/hooks/cli_reference.py`).
"""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from markdown.extensions.toc import slugify

from opsbundle.deployment.stacks import TEMPLATES_DIR, load_template

ROOT = Path(__file__).resolve().parents[3]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))
EVERY_PAGE = [*PAGES, ROOT / "README.md", ROOT / "cloudformation" / "README.md"]
# `opsbundle` as a command: not opsbundle/, opsbundle-dev, opsbundle: or `opsbundle` alone.
COMMAND_LINE = re.compile(r"(?<![\w.-])opsbundle[ \t]+([^#;&`\n]*)")
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
MAKE = re.compile(r"(?<![\w.-])make[ \t]+([a-z][a-z-]*)")
HANDLER = re.compile(r"\b((?:report_fn|log_shipper|monitors|audit)(?:\.[a-z_]+)+\.handler)\b")
PLACEHOLDER = re.compile(r"^([A-Z][A-Z_]*|…|\.\.\.)$")  # COMMAND, …: standing for any
# Flags quoted on their own that are not opsbundle's: the aws CLI's, mkdocs', the packaging
# module's (python -m opsbundle.deployment.packaging), a benchmark's, and the command-line
# secrets that redaction masks.
FOREIGN_FLAGS = frozenset({
    "--resources-to-skip", "--strict", "--no-bytecode", "--instructions", "--password",
    "--token", "--secret",
})  # fmt: skip


def _hook(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        f"docs_hook_{name}", DOCS / "hooks" / f"{name}.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


cli_reference = _hook("cli_reference")


@cache
def commands() -> dict[tuple[str, ...], Any]:
    return {command.path: command for command in cli_reference.commands()}


def global_options() -> set[str]:
    return set(commands()[()].options())


def code(text: str) -> Iterator[tuple[str, bool]]:
    """Each logical line of code in a page, and whether it stands in a fenced block: the fenced
    blocks' lines (a line indented under an `opsbundle` line, or after a trailing backslash,
    continues it; diagrams left out) and the inline code spans of the prose."""
    fenced, diagram, block = False, False, []
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            if fenced and not diagram:
                yield from ((joined, True) for joined in _joined(block))
            fenced, diagram, block = not fenced, line.strip() == "```mermaid", []
            continue
        if fenced:
            block.append(line)
        else:
            for span in re.findall(r"`([^`]+)`", line):
                yield span.replace("\\|", "|"), False


def _joined(lines: list[str]) -> Iterator[str]:
    current = ""
    for line in lines:
        continues = current.endswith("\\") or (line[:1].isspace() and "opsbundle " in current)
        if current and continues:
            current = current.rstrip("\\") + " " + line.strip()
        else:
            if current:
                yield current
            current = line
    if current:
        yield current


def resolve(words: list[str]) -> tuple[tuple[str, ...], list[str]]:
    """The command path the words name (after any global options), and what follows it."""
    while words and words[0] in global_options():
        words = words[2:] if words[0] == "--log-level" else words[1:]
    path: tuple[str, ...] = ()
    while words and words[0] in commands()[path].subcommands():
        path, words = (*path, words[0]), words[1:]
    return path, words


def invocations(page: Path) -> Iterator[tuple[tuple[str, ...], list[str], bool, str]]:
    for text, fenced in code(page.read_text(encoding="utf-8")):
        line = re.split(r"\s#", text, maxsplit=1)[0]  # less a shell comment
        for match in COMMAND_LINE.finditer(line):
            words = match.group(1).split()
            if not words:
                continue
            path, rest = resolve(words)
            yield path, rest, fenced, line


def flags(words: list[str]) -> set[str]:
    return {flag for word in words for flag in FLAG.findall(word)}


def test_the_reference_page_is_the_parser_and_every_command_has_a_page() -> None:
    reference = cli_reference.render()
    for path, command in commands().items():
        if path and not command.subcommands():
            assert f"## {command.name} " in reference
            assert path[0] in cli_reference.OWNERS, f"no page explains {command.name}"
            assert (DOCS / cli_reference.OWNERS[path[0]]).is_file()
    assert "usage: opsbundle logs subscribe" in reference


def test_every_command_and_flag_is_in_its_part_pages_synopsis() -> None:
    missing = []
    for path, command in commands().items():
        if not path or command.subcommands():
            continue
        page = DOCS / cli_reference.OWNERS[path[0]]
        shown = [rest for found, rest, fenced, _ in invocations(page) if found == path and fenced]
        if not shown:
            missing.append(f"{page.name}: no synopsis of `{command.name}` in a code block")
            continue
        documented = set().union(*(flags(rest) for rest in shown))
        for option in sorted(command.options() - documented - global_options()):
            missing.append(f"{page.name}: `{command.name}` lacks {option}")
    assert not missing, "\n".join(missing)


@pytest.mark.parametrize("page", EVERY_PAGE, ids=lambda page: page.relative_to(ROOT).as_posix())
def test_no_page_names_a_command_or_flag_that_does_not_exist(page: Path) -> None:
    wrong = []
    for path, rest, _, line in invocations(page):
        command = commands()[path]
        first = rest[0] if rest else ""
        if command.subcommands() and first and not first.startswith("-"):
            if not PLACEHOLDER.match(first):
                wrong.append(f"`opsbundle {' '.join((*path, first))}` is no command: {line!r}")
            continue
        for flag in sorted(flags(rest) - command.options() - global_options() - {"--help"}):
            wrong.append(f"`{command.name}` has no {flag}: {line!r}")
    assert not wrong, "\n".join(wrong)


def test_every_flag_named_in_prose_exists() -> None:
    """A `--flag` quoted on its own in a page is a flag of some opsbundle command, or of one of
    the other programs the pages use (FOREIGN_FLAGS)."""
    known = set().union(*(command.options() for command in commands().values()))
    unknown = []
    for page in EVERY_PAGE:
        for span, fenced in code(page.read_text(encoding="utf-8")):
            if fenced or "opsbundle " in span:
                continue
            for flag in FLAG.findall(span) if span.lstrip().startswith("--") else ():
                if flag not in known | FOREIGN_FLAGS | {"--help"}:
                    unknown.append(f"{page.name}: `{span}`")
    assert not unknown, "\n".join(unknown)


def make_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([a-z][a-z-]*):.*## ", text, re.MULTILINE))


def test_every_make_target_is_documented_and_every_one_named_exists() -> None:
    targets = make_targets()
    assert {"run", "test", "unit", "integration", "lint", "docs", "docs-check", "clean"} <= targets
    development = (DOCS / "development.md").read_text(encoding="utf-8")
    undocumented = {target for target in targets if f"`make {target}" not in development}
    assert not undocumented, f"docs/development.md does not explain: {sorted(undocumented)}"
    named = {
        (page.name, match)
        for page in EVERY_PAGE
        for line, _ in code(page.read_text(encoding="utf-8"))
        for match in MAKE.findall(line)
    }
    assert not {item for item in named if item[1] not in targets}


def template_handlers() -> set[str]:
    found = set()
    for path in TEMPLATES_DIR.glob("*.yaml"):
        for resource in load_template(path)["Resources"].values():
            if isinstance(resource, dict) and resource.get("Type") == "AWS::Lambda::Function":
                found.add(resource["Properties"]["Handler"])
    return found


def test_every_handler_named_is_one_a_template_runs() -> None:
    handlers = template_handlers()
    assert "report_fn.handler.handler" in handlers
    stale = {
        (page.name, name)
        for page in EVERY_PAGE
        for name in HANDLER.findall(page.read_text(encoding="utf-8"))
        if name not in handlers
    }
    assert not stale, f"handlers no template has: {sorted(stale)}"


def slugs(page: Path) -> set[str]:
    """The anchors MkDocs gives a page's headings (Python-Markdown's toc slugify)."""
    text = page.read_text(encoding="utf-8")
    headings = [line.lstrip("#").strip() for line, _ in _headings(text)]
    return {slugify(re.sub(r"[`*]", "", heading), "-") for heading in headings}


def _headings(text: str) -> Iterator[tuple[str, int]]:
    fenced = False
    for number, line in enumerate(text.splitlines()):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced and re.match(r"#{1,6} ", line):
            yield line, number


@pytest.mark.parametrize("readme", ["README.md", "cloudformation/README.md"])
def test_the_readmes_link_to_pages_and_anchors_that_exist(readme: str) -> None:
    source = ROOT / readme
    broken = []
    for target, anchor in re.findall(
        r"\]\(((?:\.\./)?docs/[a-z-]+\.md)(?:#([a-z0-9_-]+))?\)", source.read_text()
    ):
        page = (source.parent / target).resolve()
        if not page.is_file():
            broken.append(target)
        elif anchor and anchor not in slugs(page):
            broken.append(f"{target}#{anchor}")
    assert not broken, f"{readme} links to what does not exist: {broken}"


def test_every_template_has_its_parameters_and_resources_in_the_manual() -> None:
    """Each template's parameter table and resource diagram are drawn from it at build time
    (docs/hooks/stack_reference.py): a template without its two markers would go undocumented."""
    text = "\n".join(page.read_text(encoding="utf-8") for page in PAGES)
    missing = [
        f"<!-- {kind}: {path.name} -->"
        for path in sorted(TEMPLATES_DIR.glob("*.yaml"))
        for kind in ("stack-parameters", "stack-resources")
        if f"<!-- {kind}: {path.name} -->" not in text
    ]
    assert not missing, f"no page holds: {missing}"


REPO_PATH = re.compile(
    r"`((?:\.ci|bench|cloudformation|dashboards|docs|log_shipper|monitors|opsbundle|report_fn"
    r"|audit|scripts|tests)/[\w./-]*)`"
)


def test_every_file_of_the_repository_a_page_names_exists() -> None:
    """A page that names `tests/unit/x.py` or `opsbundle/y.py` names a file (or folder) that is
    there: a move in the code shows up here, not in a reader's search."""
    missing = sorted(
        {
            f"{page.relative_to(ROOT)}: {name}"
            for page in EVERY_PAGE
            for name in REPO_PATH.findall(page.read_text(encoding="utf-8"))
            if not (ROOT / name.rstrip("/")).exists()
        }
    )
    assert not missing, "\n".join(missing)
