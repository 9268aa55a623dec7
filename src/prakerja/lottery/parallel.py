"""Both cores for a large lottery: the Merkle tree's leaves and the draw's tickets are hashed in helper processes
while this one does the rest (checking rows, streaming tiers, writing files). The helpers compute pure functions
of bytes they are sent and send bytes back; the results are the same bytes as without them (tests compare both).

Helpers are forked (``fork`` start method): a fork starts in milliseconds with the lottery already imported, and
the helper only hashes and writes to its pipe, never touching the parent's threads, connections or files. Below
:data:`MIN_ENTRIES` entries, or with one usable core, everything runs in this process."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager

MIN_ENTRIES = 60_000
"""Below this the pool's start (~0.1 s) costs more than the second core saves."""


def helpers_available() -> int:
    """Cores this process may use, minus the one it runs on."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(0, cores - 1)


@contextmanager
def pool(entries: int, helpers: int | None = None) -> Iterator[Executor | None]:
    """A pool of helper processes for ``entries`` entries, or None when hashing here is cheaper."""
    count = helpers_available() if helpers is None else helpers
    if count < 1 or entries < MIN_ENTRIES or "fork" not in multiprocessing.get_all_start_methods():
        yield None
        return
    executor = ProcessPoolExecutor(count, mp_context=multiprocessing.get_context("fork"))
    try:
        yield executor
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
