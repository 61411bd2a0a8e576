"""CPU counters for the throughput bench: containers' cgroups, this machine's /proc/stat, child processes.

cgroup v1 (this machine: dockerd's cgroupfs driver) keeps a container's CPU time in nanoseconds at
`/sys/fs/cgroup/cpuacct/docker/<id>/cpuacct.usage`; cgroup v2 keeps it in microseconds as the
`usage_usec` line of `cpu.stat`, under `system.slice/docker-<id>.scope/` (systemd driver) or
`docker/<id>/` (cgroupfs driver). Parsing is pure; reading takes the root as an argument.
"""

from __future__ import annotations

import itertools
import os
import resource
from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC_STAT = Path("/proc/stat")
PROC = Path("/proc")


def cgroup_candidates(container_id: str, root: Path = CGROUP_ROOT) -> list[Path]:
    """Where a container's CPU counter may live, v1 layouts first, then v2."""
    return [
        root / "cpuacct" / "docker" / container_id / "cpuacct.usage",
        root / "cpu,cpuacct" / "docker" / container_id / "cpuacct.usage",
        root / "cpuacct" / "system.slice" / f"docker-{container_id}.scope" / "cpuacct.usage",
        root / "system.slice" / f"docker-{container_id}.scope" / "cpu.stat",
        root / "docker" / container_id / "cpu.stat",
    ]


def parse_cpuacct_usage(text: str) -> float:
    """cgroup v1 `cpuacct.usage` (nanoseconds) -> seconds."""
    return int(text.strip()) / 1e9


def parse_cpu_stat(text: str) -> float:
    """cgroup v2 `cpu.stat` -> seconds, from its `usage_usec` line."""
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if key == "usage_usec":
            return int(value.strip()) / 1e6
    raise ValueError("cpu.stat has no usage_usec line")


def parse_counter(path: Path, text: str) -> float:
    """Seconds from either counter file, told apart by its name."""
    return parse_cpu_stat(text) if path.name == "cpu.stat" else parse_cpuacct_usage(text)


def container_seconds(container_id: str, root: Path = CGROUP_ROOT) -> float | None:
    """CPU seconds a container has used so far, or None when no counter is readable here."""
    for path in cgroup_candidates(container_id, root):
        try:
            return parse_counter(path, path.read_text(encoding="ascii"))
        except (OSError, ValueError):
            continue
    return None


@dataclass(frozen=True)
class Ticks:
    """The machine's CPU time from /proc/stat's first line (USER_HZ ticks, all cores together)."""

    busy: int
    total: int


def parse_proc_stat(text: str) -> Ticks:
    """The aggregate `cpu` line: busy is everything but idle and iowait; guest time is inside user."""
    for line in text.splitlines():
        fields = line.split()
        if fields and fields[0] == "cpu":
            values = [int(v) for v in fields[1:9]]  # user nice system idle iowait irq softirq steal
            idle = values[3] + (values[4] if len(values) > 4 else 0)
            return Ticks(busy=sum(values) - idle, total=sum(values))
    raise ValueError("/proc/stat has no aggregate cpu line")


def machine_ticks(path: Path = PROC_STAT) -> Ticks | None:
    """The machine's CPU ticks now, or None where /proc/stat is not readable."""
    try:
        return parse_proc_stat(path.read_text(encoding="ascii"))
    except (OSError, ValueError):
        return None


def busy_cores(before: Ticks | None, after: Ticks | None, cores: int) -> float | None:
    """Cores' worth of CPU the whole machine used between two samples (0..cores)."""
    if before is None or after is None or after.total <= before.total:
        return None
    return cores * (after.busy - before.busy) / (after.total - before.total)


def children_seconds() -> float:
    """User + system CPU seconds of this process's finished (waited-for) children, e.g. wrk."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def self_seconds() -> float:
    """User + system CPU seconds of this process, all threads (the Python load generator)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def is_proxy_for(cmdline: bytes, port: int) -> bool:
    """Whether a /proc/<pid>/cmdline is dockerd's userland proxy relaying host port `port`."""
    args = cmdline.split(b"\0")
    if not args or not args[0].endswith(b"docker-proxy"):
        return False
    return any(a == b"-host-port" and b == str(port).encode() for a, b in itertools.pairwise(args))


def proxy_pids(port: int, proc: Path = PROC) -> list[int]:
    """The docker-proxy processes relaying host port `port` (every request to a port published on
    127.0.0.1 passes through one when dockerd's userland proxy is on, its default)."""
    pids = []
    for entry in proc.iterdir() if proc.is_dir() else ():
        if entry.name.isdigit():
            try:
                if is_proxy_for((entry / "cmdline").read_bytes(), port):
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def parse_pid_stat(text: str, ticks_per_second: int) -> float:
    """User + system CPU seconds from /proc/<pid>/stat (fields 14 and 15, after the command's parens)."""
    fields = text.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / ticks_per_second


def processes_seconds(pids: list[int], proc: Path = PROC) -> float | None:
    """CPU seconds the processes have used so far, or None when one of them cannot be read."""
    ticks = os.sysconf("SC_CLK_TCK")
    try:
        return sum(parse_pid_stat((proc / str(pid) / "stat").read_text(encoding="ascii"), ticks) for pid in pids)
    except (OSError, ValueError, IndexError):
        return None
