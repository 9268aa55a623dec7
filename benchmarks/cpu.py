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


def _role(pid: int) -> str:
    """What a PostgreSQL server process does, from its title (``postgres: walwriter``, ``postgres: autovacuum
    worker``, ``postgres: io worker 0``; a backend's title names its user and database): ``backend`` for the
    processes serving connections, else the background role's name."""
    try:
        title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "gone"
    if not title.startswith("postgres: "):
        return "postmaster"
    rest = title[len("postgres: ") :]
    for role in (
        "walwriter",
        "checkpointer",
        "background writer",
        "autovacuum worker",
        "autovacuum launcher",
        "io worker",
        "walsummarizer",
        "logical replication",
        "archiver",
    ):
        if rest.startswith(role):
            return role.replace(" ", "_")
    return "backend"


def tree_cpu_by_role(root: int) -> dict[str, tuple[float, float]]:
    """(user, system) CPU seconds so far of a PostgreSQL server's processes, summed by role (:func:`_role`), plus
    ``exited``: the children that have ended (autovacuum workers, closed connections), which the kernel adds to
    the postmaster's account of its waited-for children and which can no longer be told apart."""
    out: dict[str, tuple[float, float]] = {}

    def add(role: str, user: float, system: float) -> None:
        u, s = out.get(role, (0.0, 0.0))
        out[role] = (u + user, s + system)

    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()
        if pid == root:
            add("postmaster", int(fields[11]) / _TICK, int(fields[12]) / _TICK)
            add("exited", int(fields[13]) / _TICK, int(fields[14]) / _TICK)
        elif int(fields[1]) == root:
            add(_role(pid), int(fields[11]) / _TICK, int(fields[12]) / _TICK)
    return out


class DatabaseCpu:
    """CPU seconds the local PostgreSQL server (all its processes) used between ``start()`` and ``stop()``; 0 when
    the server is remote. ``by_role()`` after ``stop()`` splits them: the backends serving connections and each
    background role (WAL writer, checkpointer, autovacuum, I/O workers), user and system (kernel) time apart.

    Linux here samples CPU time at each timer tick (``CONFIG_TICK_CPU_ACCOUNTING``, 250 Hz): the figures are
    exact in aggregate over seconds, statistical for anything shorter."""

    def __init__(self, url: str) -> None:
        self.pid = postmaster_pid(url)
        self.before = 0.0
        self.roles_before: dict[str, tuple[float, float]] = {}
        self.roles: dict[str, tuple[float, float]] = {}

    def start(self) -> None:
        self.roles_before = tree_cpu_by_role(self.pid) if self.pid else {}
        self.before = tree_cpu_seconds(self.pid) if self.pid else 0.0

    def stop(self) -> float:
        if not self.pid:
            return 0.0
        total = tree_cpu_seconds(self.pid) - self.before
        after = tree_cpu_by_role(self.pid)
        self.roles = {}
        for role, (user, system) in after.items():
            u0, s0 = self.roles_before.get(role, (0.0, 0.0))
            if user - u0 > 0 or system - s0 > 0:
                self.roles[role] = (max(0.0, user - u0), max(0.0, system - s0))
        return total

    def by_role(self, ops: int) -> dict[str, dict[str, float]]:
        """The last ``start()``..``stop()`` span per role, in microseconds per operation: ``{role: {"user", "sys"}}``
        (a process that ended in between is counted under ``exited`` with its whole life's CPU, and drops out of
        its role: its role's figure can then be too low and ``exited`` too high, by the same amount; the sum is
        right)."""
        digits = 2
        return (
            {
                role: {"user": round(user / ops * 1e6, digits), "sys": round(system / ops * 1e6, digits)}
                for role, (user, system) in sorted(self.roles.items())
            }
            if ops
            else {}
        )
