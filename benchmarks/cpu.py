"""CPU accounting shared by the benchmarks: CPU seconds of process trees read from Linux ``/proc``, which on a
shared machine are steadier than rates (docs/benchmarks.md, "Performance per operation")."""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Any

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


def roles_per_op(
    before: dict[str, tuple[float, float]], after: dict[str, tuple[float, float]], ops: int
) -> dict[str, int]:
    """PostgreSQL's CPU between two ``tree_cpu_by_role`` readings, us per operation by role (user + system): the
    backends serving connections apart from the server's background work (autovacuum, WAL writer, checkpointer;
    ``exited``: processes that ended in between, autovacuum workers mostly)."""
    out = {}
    for role, (user, system) in after.items():
        u0, s0 = before.get(role, (0.0, 0.0))
        used = max(0.0, user - u0) + max(0.0, system - s0)
        if used > 0 and ops:
            out[role] = round(used / ops * 1e6)
    return dict(sorted(out.items(), key=lambda item: -item[1]))


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


def _children(pid: int) -> list[int]:
    """The live children of a process (every thread's ``children`` list, Linux 3.5+)."""
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            found.extend(int(c) for c in (task / "children").read_text().split())
        except (OSError, ValueError):
            continue
    return found


def _task_cpu(path: str) -> float | None:
    """User + system CPU seconds of one process or thread from its ``stat`` file."""
    try:
        with open(path, "rb") as stat:
            raw = stat.read()
    except OSError:
        return None
    fields = raw[raw.rindex(b")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


class Timeline:
    """Who works when: a thread samples, every ``interval`` seconds, the running CPU seconds of each process (and of
    each of our own threads) it is told about, and the machine's busy time, so that any span of wall time (a phase)
    can be given its CPU seconds by process: which cores worked on what, and what overlapped.

    ``label(kind, pid)`` names a process for the report (``kind``: ``main`` (our main thread), ``thread`` (our other
    threads), ``child`` (our child processes), ``postgres`` (the server's processes)); processes with the same name
    add up. A process that appears between two samples is counted from 0 at the previous sample; one that ends keeps
    its last reading (up to ``interval`` of its CPU is lost)."""

    def __init__(self, postmaster: int | None, label: Any, interval: float = 0.04) -> None:
        import threading

        self.postmaster = postmaster
        self.label = label
        self.interval = interval
        self.samples: list[tuple[float, dict[str, float], float]] = []
        self.names: dict[str, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cpu-timeline", daemon=True)
        self._pid = os.getpid()
        self._me = 0

    def _read(self) -> tuple[float, dict[str, float], float]:
        import time

        now = time.perf_counter()
        per: dict[tuple[str, int], float] = {}
        for task in os.listdir(f"/proc/{self._pid}/task"):
            tid = int(task)
            if tid == self._me:
                continue  # the sampler itself
            value = _task_cpu(f"/proc/{self._pid}/task/{tid}/stat")
            if value is not None:
                per[("main" if tid == self._pid else "thread", tid)] = value
        for child in _children(self._pid):
            value = _task_cpu(f"/proc/{child}/stat")
            if value is not None:
                per[("child", child)] = value
        if self.postmaster:
            for pid in _children(self.postmaster):
                value = _task_cpu(f"/proc/{pid}/stat")
                if value is not None:
                    per[("postgres", pid)] = value
        busy, _total = machine_busy_seconds()
        for kind, pid in per:  # named when first seen (a process that ends can no longer say what it was)
            if f"{kind}:{pid}" not in self.names:
                self.names[f"{kind}:{pid}"] = self.label(kind, pid)
        return now, {f"{kind}:{pid}": value for (kind, pid), value in per.items()}, busy

    def _run(self) -> None:
        import threading

        self._me = threading.get_native_id()
        while True:
            self.samples.append(self._read())
            if self._stop.wait(self.interval):
                self.samples.append(self._read())
                return

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _series(self) -> dict[str, list[tuple[float, float]]]:
        """Each process's running CPU seconds at each sample (0 before it was first seen, its last reading after)."""
        series: dict[str, list[tuple[float, float]]] = {}
        previous = self.samples[0][0] if self.samples else 0.0
        for when, values, _busy in self.samples:
            for key, value in values.items():
                if key not in series:
                    series[key] = [(previous, 0.0)] if when > previous else []
                series[key].append((when, value))
            previous = when
        return series

    @staticmethod
    def _at(points: list[tuple[float, float]], moment: float) -> float:
        """A running total at ``moment``, linearly between its two samples around it."""
        import bisect

        if not points or moment <= points[0][0]:
            return 0.0 if not points else points[0][1]
        if moment >= points[-1][0]:
            return points[-1][1]
        i = bisect.bisect_right(points, (moment, float("inf")))
        (t0, v0), (t1, v1) = points[i - 1], points[i]
        return v0 + (v1 - v0) * (moment - t0) / (t1 - t0) if t1 > t0 else v1

    def spans(self, spans: list[tuple[str, float, float]]) -> dict[str, dict[str, float]]:
        """Wall seconds and CPU seconds by process name for each named span of wall time (spans with the same
        name add up; a span inside another counts for the inner one only), plus ``cores_busy_ours_and_postgres``
        (their CPU over the wall time) and ``cores_busy_machine`` (every process of the machine, neighbours
        included)."""
        series = self._series()
        machine = [(when, busy) for when, _values, busy in self.samples]
        names = self.names
        # the innermost span open at each moment: cut the time line at every span's edges
        edges = sorted({t for _n, a, b in spans for t in (a, b)})
        out: dict[str, dict[str, float]] = {}
        for low, high in itertools.pairwise(edges):
            middle = (low + high) / 2
            open_spans = [(a, name) for name, a, b in spans if a <= middle < b]
            if not open_spans:
                continue
            name = max(open_spans)[1]  # the latest started: the innermost
            row = out.setdefault(name, {"wall": 0.0})
            row["wall"] += high - low
            for key, points in series.items():
                spent = self._at(points, high) - self._at(points, low)
                if spent > 0:
                    row[names[key]] = row.get(names[key], 0.0) + spent
            row["machine"] = row.get("machine", 0.0) + self._at(machine, high) - self._at(machine, low)
        for row in out.values():
            ours = sum(v for k, v in row.items() if k not in ("wall", "machine"))
            row["cores_busy_ours_and_postgres"] = ours / row["wall"] if row["wall"] else 0.0
            row["cores_busy_machine"] = row.pop("machine") / row["wall"] if row["wall"] else 0.0
        return out
