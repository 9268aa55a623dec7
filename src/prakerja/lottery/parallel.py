"""Both cores for a large lottery: the Merkle tree's leaves and the draw's tickets are hashed by this process and a
forked helper at once, the results the same bytes as without it (tests compare both).

The helper is forked when the work is ready (:meth:`Helpers.run`), so it inherits its input (the rows, the plan) in
memory: nothing is pickled or sent through a pipe. Work is cut in tasks; this process takes them from the front, in
order (it streams each result on at once), the helper from the back, each claiming the next under a lock, until they
meet; the helper writes its results into shared memory (an anonymous shared mapping, at offsets fixed in advance)
and exits. The helper only computes and writes there, never touching the parent's threads, connections or files;
if it fails, this process computes its tasks itself. Below :data:`MIN_ENTRIES` entries, with one usable core or
without ``fork``, everything runs in this process."""

from __future__ import annotations

import itertools
import mmap
import multiprocessing
import os
import signal
import struct
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

MIN_ENTRIES = 60_000
"""Below this the fork (~0.05 s) costs more than the second core saves."""

_CLAIMS = struct.Struct("<qq")  # next task from the front, end of the tasks not yet claimed from the back
_LENGTH = struct.Struct("<q")


def helpers_available() -> int:
    """Cores this process may use, minus the one it runs on."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(0, cores - 1)


class Helpers:
    """Forked helpers for :meth:`run`; see the module docstring."""

    def __init__(self, count: int) -> None:
        self.count = count

    def run(
        self, tasks: int, bounds: Sequence[int], compute: Callable[[int], bytes], *, ordered: bool = True
    ) -> Iterator[tuple[int, bytes | None]]:
        """Every task index once, with the helpers' result (``compute(i)``, at most ``bounds[i]`` bytes), or None
        for a task this process must do itself, now (before asking for the next one). In index order; or, when not
        ``ordered``, as they are done: each of this process's tasks when it claims it, and between them every task
        a helper has finished since (so that its result can be used while the helper works on)."""
        offsets = [0, *itertools.accumulate(bounds)]
        table = _CLAIMS.size
        data = table + _LENGTH.size * tasks
        shared = mmap.mmap(-1, max(1, data + offsets[-1]))
        _CLAIMS.pack_into(shared, 0, 0, tasks)
        for index in range(tasks):
            _LENGTH.pack_into(shared, table + _LENGTH.size * index, -1)
        lock = multiprocessing.get_context("fork").Lock()
        children: list[int] = []
        try:
            for _ in range(self.count):
                pid = os.fork()
                if pid == 0:  # the helper: claim from the back, write the result, exit without cleaning up
                    code = 1
                    try:
                        while True:
                            with lock:
                                front, back = _CLAIMS.unpack_from(shared, 0)
                                if front >= back:
                                    break
                                _CLAIMS.pack_into(shared, 0, front, back - 1)
                            index = back - 1
                            result = compute(index)
                            if len(result) > bounds[index]:
                                break
                            start = data + offsets[index]
                            shared[start : start + len(result)] = result
                            with lock:  # the result is in place before its length says so
                                _LENGTH.pack_into(shared, table + _LENGTH.size * index, len(result))
                        code = 0
                    finally:
                        os._exit(code)
                children.append(pid)
            mine = 0
            given: set[int] = set()  # helpers' results handed out already (not ordered)

            def result_of(index: int, length: int) -> bytes:
                start = data + offsets[index]
                return shared[start : start + length]

            while True:
                with lock:
                    front, back = _CLAIMS.unpack_from(shared, 0)
                    if front >= back:
                        break
                    _CLAIMS.pack_into(shared, 0, front + 1, back)
                    finished = () if ordered else range(back, tasks)
                    done = [i for i in finished if i not in given and self._length(shared, table, i) >= 0]
                for index in done:
                    given.add(index)
                    yield index, result_of(index, self._length(shared, table, index))
                yield front, None
                mine = front + 1
            for pid in children:
                os.waitpid(pid, 0)
            children.clear()
            for index in range(mine, tasks):
                if index in given:
                    continue
                length = self._length(shared, table, index)
                yield index, (result_of(index, length) if length >= 0 else None)
        finally:
            for pid in children:  # the caller stopped early: stop the helpers
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            shared.close()

    @staticmethod
    def _length(shared: mmap.mmap, table: int, index: int) -> int:
        """The length of task ``index``'s result in ``shared``, -1 while there is none."""
        return int(_LENGTH.unpack_from(shared, table + _LENGTH.size * index)[0])


@contextmanager
def pool(entries: int, helpers: int | None = None) -> Iterator[Helpers | None]:
    """Helpers for ``entries`` entries, or None when hashing here alone is cheaper."""
    count = helpers_available() if helpers is None else helpers
    if count < 1 or entries < MIN_ENTRIES or "fork" not in multiprocessing.get_all_start_methods():
        yield None
        return
    yield Helpers(count)
