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
