"""Base URLs that carry credentials must be https (plain http only to this machine, for tests)."""

from __future__ import annotations

from urllib.parse import urlparse

from opsbundle.exceptions import ConfigError

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def require_https(url: str, *, setting: str) -> str:
    parsed = urlparse(url)
    if parsed.scheme == "https" and parsed.netloc:
        return url
    if parsed.scheme == "http" and parsed.hostname in LOOPBACK:
        return url
    raise ConfigError(setting, f"{url!r} must be an https:// URL (tokens are sent to it)")
