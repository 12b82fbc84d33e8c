"""URLs that carry credentials: https only (plain http only to this machine, for tests), and
shown in errors and logs without what makes them a credential."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from opsbundle.exceptions import ConfigError

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def is_loopback(url: str) -> bool:
    return urlsplit(url).hostname in LOOPBACK


def require_https(url: str, *, setting: str) -> str:
    parsed = urlsplit(url)
    if parsed.scheme == "https" and parsed.netloc:
        return url
    if parsed.scheme == "http" and parsed.hostname in LOOPBACK:
        return url
    raise ConfigError(
        setting, f"{shown(url)!r} must be an https:// URL (credentials are sent to it)"
    )


def shown(url: str) -> str:
    """`url` without a user:password, query or fragment: a pre-signed URL's signature, a
    token in a query string or a password never reaches an error message or a log."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
    except ValueError:  # a port that is no number, an unbalanced [
        return url.split("?", 1)[0].split("#", 1)[0].rsplit("@", 1)[-1]
    if not parts.scheme:
        return url.split("?", 1)[0].split("#", 1)[0]
    hidden = "?…" if parts.query else ""
    return urlunsplit((parts.scheme, netloc, parts.path, "", "")) + hidden
