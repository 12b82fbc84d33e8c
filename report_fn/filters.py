"""Which leads a report counts: one campaign family, a few states (pure).

A filter maps a lead field to patterns; a lead is kept when, for every field named, its value
matches one of that field's patterns. Patterns are shell-style (`Mass Torts*`, `T?`) and
match case-insensitively, so the file can say `TX` or `tx`.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from report_fn.leads import DIMENSIONS, Lead

FIELDS = (*DIMENSIONS, "status")


@dataclass(frozen=True)
class LeadFilter:
    patterns: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def of(cls, spec: Mapping[str, str | Iterable[str]]) -> LeadFilter:
        patterns: dict[str, tuple[str, ...]] = {}
        for name, value in spec.items():
            if name not in FIELDS:
                raise ValueError(f"unknown lead field {name!r}; use one of {', '.join(FIELDS)}")
            values = (value,) if isinstance(value, str) else tuple(value)
            patterns[name] = tuple(str(v) for v in values)
        return cls(patterns)

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def keep(self, lead: Lead) -> bool:
        return all(
            any(
                fnmatch.fnmatchcase(str(getattr(lead, name)).casefold(), p.casefold())
                for p in patterns
            )
            for name, patterns in self.patterns.items()
        )

    def apply(self, leads: Iterable[Lead]) -> list[Lead]:
        if not self.patterns:
            return list(leads)
        return [lead for lead in leads if self.keep(lead)]

    def describe(self) -> str:
        """ "state TX or FL · campaign Mass Torts*": what the report is limited to."""
        return " · ".join(
            f"{name.replace('_', ' ')} {' or '.join(patterns)}"
            for name, patterns in self.patterns.items()
        )
