"""The web process's start-up objects kept out of Python's cyclic garbage collector (ADR 0034).

A web worker holds several hundred thousand long-lived objects once the application is built (modules, routes,
models, templates, pydantic schemas). Python's collector walks all of them in every full collection, and under
load one comes every few thousand requests (objects of the requests in flight when a young collection runs are
promoted to the oldest generation): ~190 ms of CPU each, ~20-30 us a request on average (docs/benchmarks.md,
branch ``bare``). :func:`freeze_startup_objects` collects once, then moves everything alive into the collector's
permanent generation (``gc.freeze``): full collections then walk only what was made after start-up. Objects still
die by reference counting as before; only cycles among start-up objects that become garbage later stay."""

from __future__ import annotations

import gc

_frozen = False


def freeze_startup_objects() -> bool:
    """Once per process (the server's start-up, before the first request): collect, then freeze what is alive.
    Whether it froze now (False: done already in this process)."""
    global _frozen
    if _frozen:
        return False
    _frozen = True
    gc.collect()
    gc.freeze()
    return True
