"""CPU accounting shared by the benchmarks: CPU seconds of process trees read from Linux ``/proc``, which on a
shared machine are steadier than rates (docs/benchmarks.md, "Performance per operation")."""

from __future__ import annotations

import os
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_stat(pid: int) -> tuple[int, float, float] | None:
    """(parent pid, own CPU seconds, CPU seconds of its children that have exited)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICK, (int(fields[13]) + int(fields[14])) / _TICK


def tree_cpu_seconds(root: int) -> float:
    """CPU time used so far by a process, its live descendants and its exited children (Linux /proc)."""
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            found = _proc_stat(int(entry.name))
            if found is not None:
                stats[int(entry.name)] = found
    if root not in stats:
        return 0.0
    children: dict[int, list[int]] = {}
    for pid, (parent, _, _) in stats.items():
        children.setdefault(parent, []).append(pid)
    total, todo = stats[root][2], [root]
    while todo:
        pid = todo.pop()
        total += stats[pid][1]
        todo.extend(children.get(pid, []))
    return total


def machine_busy_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, all cores (/proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / _TICK, sum(values[:8]) / _TICK


def postmaster_pid(url: str) -> int | None:
    """The local PostgreSQL server's pid (its data folder's ``postmaster.pid``), or None when remote."""
    import psycopg

    from prakerja.jobs import libpq_conninfo

    try:
        with psycopg.connect(libpq_conninfo(url)) as conn:
            folder = conn.execute("SHOW data_directory").fetchone()[0]  # type: ignore[index]
        return int((Path(folder) / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, psycopg.Error):
        return None


class DatabaseCpu:
    """CPU seconds the local PostgreSQL server (all its processes) used between ``start()`` and ``stop()``; 0 when
    the server is remote."""

    def __init__(self, url: str) -> None:
        self.pid = postmaster_pid(url)
        self.before = 0.0

    def start(self) -> None:
        self.before = tree_cpu_seconds(self.pid) if self.pid else 0.0

    def stop(self) -> float:
        return (tree_cpu_seconds(self.pid) - self.before) if self.pid else 0.0
