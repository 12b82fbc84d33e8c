"""The shipper's process memory settings: glibc keeps freed memory, the cyclic collector pauses
for one delivery and comes back as it was."""

from __future__ import annotations

import ctypes
import gc
import platform

import pytest

from log_shipper.memory import cyclic_gc_paused, keep_freed_memory


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_glibc_takes_both_thresholds() -> None:
    assert keep_freed_memory() is True
    assert keep_freed_memory() is True  # once per process; asking again is harmless


def test_without_mallopt_nothing_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_libc(_name: object) -> object:
        raise OSError("no C library here")

    keep_freed_memory.cache_clear()
    monkeypatch.setattr(ctypes, "CDLL", no_libc)
    try:
        assert keep_freed_memory() is False
    finally:
        keep_freed_memory.cache_clear()


@pytest.mark.parametrize("enabled_before", [True, False])
def test_the_collector_comes_back_as_it_was_even_after_an_error(enabled_before: bool) -> None:
    was = gc.isenabled()
    (gc.enable if enabled_before else gc.disable)()
    try:
        with pytest.raises(RuntimeError), cyclic_gc_paused():
            assert not gc.isenabled()
            raise RuntimeError("delivery failed")
        assert gc.isenabled() is enabled_before
    finally:
        (gc.enable if was else gc.disable)()
