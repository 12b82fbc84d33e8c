"""What a command prints on stdout: `--format text` (default, for a person) or `json` (one
document, for a program). Every command that prints a result takes the same flag."""

from __future__ import annotations

import json
import sys
from typing import IO, Any

FORMATS = ("text", "json")


def add_format(parser: Any, choices: tuple[str, ...] = FORMATS, *, what: str = "") -> None:
    shown = ", ".join(choices[1:-1])
    parser.add_argument(
        "--format",
        choices=choices,
        default="text",
        help=what
        or f"text (default, for a person), {shown + ', ' if shown else ''}or json (for a program)",
    )


def emit(value: Any, form: str, *, out: IO[str] | None = None) -> None:
    out = out or sys.stdout
    if form == "json":
        out.write(json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n")
    else:
        out.write(text(value))


def text(value: Any, indent: str = "") -> str:
    """A summary as `name: value` lines; nested objects and lists indented under their name,
    empty ones left out."""
    if isinstance(value, dict):
        lines = []
        for key, item in value.items():
            name = str(key).replace("_", " ")
            if isinstance(item, dict | list):
                if item:
                    lines.append(f"{indent}{name}:\n{text(item, indent + '  ')}")
            else:
                lines.append(f"{indent}{name}: {_scalar(item)}\n")
        return "".join(lines)
    if isinstance(value, list):
        return "".join(
            f"{indent}-\n{text(item, indent + '  ')}"
            if isinstance(item, dict | list)
            else f"{indent}- {_scalar(item)}\n"
            for item in value
        )
    return f"{indent}{_scalar(value)}\n"


def _scalar(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
