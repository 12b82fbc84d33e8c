"""Keeps events out of indices that would be made with another template's mappings.

When a family is in clash (template.py), a new index of it would get someone else's mappings
and keep them for its whole period. Its events are dead-lettered as `template_clash`, with
which template is in the way, until the clash is fixed; then `opsbundle logs replay` sends
them. Indices that already exist (made with our mappings) still take their events.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from opensearchpy.exceptions import TransportError

from log_shipper.refusals import TEMPLATE_CLASH
from log_shipper.template import TemplateCheck
from log_shipper.transform import Document, Pending


@dataclass
class TemplateGuard:
    """Keeps events out of indices that would be made with another template's mappings (a
    family in clash): they are dead-lettered as template_clash; existing indices still take
    theirs. Asks OpenSearch once per index whether it exists."""

    client: Any
    clashes: list[TemplateCheck]
    _exists: dict[str, bool] = field(default_factory=dict)

    def screen(
        self, documents: Iterable[Pending], refused: list[tuple[Document, str]]
    ) -> Iterator[Pending]:
        """The documents that may go; the others into `refused` with the clash's detail."""
        for pending in documents:
            document = Document.of_pending(pending)
            detail = self._blocked(document.index)
            if detail is None:
                yield pending
            else:
                refused.append((document, detail))

    def _blocked(self, index: str) -> str | None:
        for check in self.clashes:
            if check.family.matches(index):
                if not self._index_exists(index):
                    return f"{TEMPLATE_CLASH}: {check.clash}"
                return None
        return None

    def _index_exists(self, index: str) -> bool:
        known = self._exists.get(index)
        if known is None:
            try:
                known = bool(self.client.indices.exists(index=index))
            except TransportError:  # unknown: let the document try (it fails on its own if so)
                return True
            self._exists[index] = known
        return known
