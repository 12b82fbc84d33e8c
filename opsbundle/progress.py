"""What the CLI shows on a terminal while it works: bars, waits and notes, through tqdm.

Nothing is shown when stderr is not a terminal (a pipe, a file, CI, Lambda): the same calls
then do nothing. tqdm is imported only when something is shown. Core code never sees this
class: it takes plain callbacks (`on_page`, `on_retry`, ...) that the CLI makes from one.
Log lines go through `log_handler()`, so they print above a bar instead of tearing it.
"""

from __future__ import annotations

import logging
import sys
from types import TracebackType
from typing import IO, Any


class Bar:
    """One bar (a known total) or counter (none). `set` moves it to an absolute position,
    for work that can start over (a retried upload)."""

    def __init__(self, bar: Any = None) -> None:
        self._bar = bar

    @property
    def shown(self) -> bool:
        return self._bar is not None

    def update(self, count: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(count)

    def set(self, position: int) -> None:
        if self._bar is not None and position != self._bar.n:
            self._bar.update(position - self._bar.n)

    def describe(self, text: str) -> None:
        """A short text after the bar (pages, windows, the attempt)."""
        if self._bar is not None:
            self._bar.set_postfix_str(text, refresh=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.refresh()  # its last state, even when it came sooner than a redraw
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Bar:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


class Progress:
    def __init__(self, stream: IO[str], *, enabled: bool) -> None:
        self.stream = stream
        self.enabled = enabled

    @classmethod
    def for_stream(cls, stream: IO[str]) -> Progress:
        try:
            enabled = stream.isatty()
        except (AttributeError, ValueError):  # closed, or no file behind it
            enabled = False
        return cls(stream, enabled=enabled)

    @classmethod
    def off(cls) -> Progress:
        return cls(sys.stderr, enabled=False)

    def bar(
        self, desc: str, *, total: int | None = None, unit: str = "it", unit_scale: bool = False
    ) -> Bar:
        """A bar to `total`, or a counter when there is none."""
        shape = None if total is not None else "{desc}: {n_fmt} {unit} ({elapsed}){postfix}"
        return self._tqdm(desc, total=total, unit=unit, unit_scale=unit_scale, shape=shape)

    def status(self, desc: str) -> Bar:
        """A line saying what is being waited on and for how long; `describe` adds the state."""
        return self._tqdm(
            desc, total=None, unit="s", unit_scale=False, shape="{desc} ({elapsed}){postfix}"
        )

    def _tqdm(
        self, desc: str, *, total: int | None, unit: str, unit_scale: bool, shape: str | None
    ) -> Bar:
        if not self.enabled:
            return Bar()
        from tqdm import tqdm  # noqa: PLC0415 - only on a terminal

        return Bar(
            tqdm(
                desc=desc,
                total=total,
                unit=unit,
                unit_scale=unit_scale,
                file=self.stream,
                bar_format=shape,
                leave=False,
                dynamic_ncols=True,
            )
        )

    def note(self, text: str) -> None:
        """A line on the terminal, above any bar (nothing when not on a terminal)."""
        if self.enabled:
            self.write(text)

    def write(self, text: str) -> None:
        if self.enabled:
            from tqdm import tqdm  # noqa: PLC0415

            tqdm.write(text, file=self.stream)
        else:
            self.stream.write(text + "\n")
            self.stream.flush()

    def log_handler(self) -> logging.Handler:
        return _Handler(self)


class _Handler(logging.Handler):
    def __init__(self, progress: Progress) -> None:
        super().__init__()
        self._progress = progress

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._progress.write(self.format(record))
        except Exception:  # logging must never break the command
            self.handleError(record)
