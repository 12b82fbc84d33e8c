"""gunzip with a bound: a few hundred kilobytes of gzip can inflate to gigabytes, so the
output is capped while it is made, never checked after the fact."""

from __future__ import annotations

import zlib

GZIP = 16 + zlib.MAX_WBITS  # zlib's window bits for the gzip wrapper


class TooLarge(ValueError):
    """The data inflates past the limit."""


def gunzip(data: bytes, *, limit: int) -> bytes:
    """`data` (one or more gzip members) inflated; TooLarge past `limit` bytes, ValueError
    when it is not gzip or ends early. No more than `limit` + 1 bytes are ever made."""
    out: list[bytes] = []
    size = 0
    rest = data
    while rest:
        inflater = zlib.decompressobj(GZIP)
        try:
            chunk = inflater.decompress(rest, limit - size + 1)
        except zlib.error as error:
            raise ValueError(f"not gzip ({error})") from None
        size += len(chunk)
        if size > limit or inflater.unconsumed_tail:
            raise TooLarge(f"inflates past {limit:,} bytes")
        if not inflater.eof:
            raise ValueError("the gzip data ends early")
        out.append(chunk)
        rest = inflater.unused_data.lstrip(b"\x00")  # the next member (after any padding)
    return b"".join(out)


class Inflater:
    """Inflates a body that arrives in pieces (an HTTP response's Content-Encoding), never
    past `limit` bytes in all: each piece is inflated `room` bytes at a time."""

    ENCODINGS = ("", "identity", "gzip", "x-gzip", "deflate")

    def __init__(self, encoding: str, *, limit: int) -> None:
        encoding = encoding.strip().lower()
        if encoding not in self.ENCODINGS:
            raise ValueError(f"unsupported Content-Encoding {encoding!r}")
        # 32 + MAX_WBITS: a gzip or zlib header, told apart by zlib; "deflate" is zlib data
        self._inflater = (
            None if encoding in ("", "identity") else zlib.decompressobj(32 + zlib.MAX_WBITS)
        )
        self.limit = limit
        self.size = 0

    def feed(self, data: bytes) -> bytes:
        """The inflated bytes of `data`; TooLarge once more than `limit` have been made."""
        if self._inflater is None:
            return self._count(data)
        out: list[bytes] = []
        pending = data
        while pending:
            try:
                chunk = self._inflater.decompress(pending, self.limit - self.size + 1)
            except zlib.error as error:
                raise ValueError(
                    f"the body is not what its Content-Encoding says ({error})"
                ) from None
            out.append(self._count(chunk))
            pending = self._inflater.unconsumed_tail
        return b"".join(out)

    def _count(self, chunk: bytes) -> bytes:
        self.size += len(chunk)
        if self.size > self.limit:
            raise TooLarge(f"inflates past {self.limit:,} bytes")
        return chunk
