"""How the shipper's process treats memory while it turns payloads into request bodies.

Both settings were measured with `make bench` on this Firecracker machine (Lambda runs on
Firecracker too); the figures are in docs/benchmarks.md.

- glibc gives an allocation of a few megabytes (a `_bulk` body, a decompressed payload) its
  own mmap and unmaps it when freed, and trims the heap's free top back to the kernel. Every
  request then faults in fresh zeroed pages: 9 ms of 53 ms for a 10,000-event payload.
  `keep_freed_memory` raises both thresholds once, so that memory stays for the next one.
- The cyclic garbage collector, left on, runs full collections in the middle of a payload and
  walks every object the process holds (tens of thousands after imports) although this work
  makes no reference cycles: refcounting frees all of it. `cyclic_gc_paused` turns it off
  for the length of one invocation (decoding and delivery), and back on after; what cycles
  a request's error makes meanwhile are collected then.
"""

from __future__ import annotations

import ctypes
import functools
import gc
from collections.abc import Iterator
from contextlib import contextmanager

# mallopt(3) parameters; glibc caps the mmap threshold at 32 MiB on 64-bit systems.
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 1024 * 1024
TRIM_THRESHOLD = 64 * 1024 * 1024


@functools.cache  # once per process
def keep_freed_memory() -> bool:
    """Ask glibc to serve allocations under 32 MiB from its heap and keep up to 64 MiB of
    freed heap. True when it took both; False without glibc (musl, macOS): nothing changes."""
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library this process already runs on
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """The cyclic collector off inside the block; on again after, if it was on before."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
