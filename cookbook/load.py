"""What else took the CPUs while a timing sample ran: other processes and the hypervisor.

A sample taken while another process holds a core is worthless for parallel
efficiency (on 2 cores that alone halves it), so each sample records the load
beside it. "Ours" is every process in our process group: the runner is a group
leader and its thread pools, loky and dask workers share its group. Figures
come from /proc on Linux; elsewhere the load is unknown (None), never a guess.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["BUSY_CORES", "CpuSnapshot", "Load", "busy_reason", "load_between", "mean_load", "snapshot"]

BUSY_CORES = 0.5  # another process holding half a core on average marks a step as sampled on a busy machine
_PROC = Path("/proc")
_SHOWN = 0.05  # steal below this many cores is noise, not worth a word


@dataclass(frozen=True)
class CpuSnapshot:
    """CPU seconds spent so far, machine-wide and by our process group, at one moment."""

    wall_s: float  # time.perf_counter()
    busy_s: float  # machine-wide busy CPU seconds (all cores) from /proc/stat
    steal_s: float  # machine-wide steal seconds from /proc/stat
    ours_s: float  # CPU seconds of our process group's processes


@dataclass(frozen=True)
class Load:
    """What else used the CPUs between two snapshots, in cores (CPU seconds per wall second)."""

    other_cores: float
    steal_cores: float


def _machine_jiffies(stat_text: str) -> tuple[int, int] | None:
    """(busy, steal) jiffies from /proc/stat's first "cpu" line; None if it is not there.

    Busy is user + nice + system + irq + softirq: guest time is already in user and
    nice, and idle, iowait and steal are not this machine's work.
    """
    for line in stat_text.splitlines():
        fields = line.split()
        if fields and fields[0] == "cpu":
            try:
                values = [int(field) for field in fields[1:]] + [0] * 8  # old kernels have fewer columns
            except ValueError:
                return None
            user, nice, system, _idle, _iowait, irq, softirq, steal = values[:8]
            return user + nice + system + irq + softirq, steal
    return None


def _process_jiffies(pid_stat: bytes, pgid: int) -> int:
    """CPU jiffies of one process if it is in process group ``pgid``, else 0.

    Counts utime + stime and also cutime + cstime, its reaped children's: a worker
    that exits mid-sample moves its time into its parent's, instead of vanishing
    from ours and showing up as another process's load.
    """
    fields = pid_stat.rpartition(b")")[2].split()  # the name may hold spaces and ')'
    try:
        if int(fields[2]) != pgid:
            return 0
        return int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])
    except (IndexError, ValueError):
        return 0


def _group_jiffies(root: Path, pgid: int) -> int:
    """CPU jiffies of the processes in group ``pgid``; those that vanish while read are skipped."""
    total = 0
    try:
        names = os.listdir(root)
    except OSError:
        return 0
    for name in names:
        if name.isdigit():
            try:
                with open(os.path.join(root, name, "stat"), "rb") as file:
                    total += _process_jiffies(file.read(), pgid)
            except OSError:  # FileNotFoundError, ProcessLookupError: gone meanwhile
                continue
    return total


def snapshot(*, root: Path = _PROC, pgid: int | None = None) -> CpuSnapshot | None:
    """None where /proc/stat is missing or unreadable (not Linux): the load is then unknown.

    ``root`` and ``pgid`` (default: our own group) let tests read a fake /proc tree.
    """
    try:
        stat_text = (root / "stat").read_text()
    except (OSError, UnicodeDecodeError):
        return None
    machine = _machine_jiffies(stat_text)
    if machine is None:
        return None
    wall_s = time.perf_counter()
    ours = _group_jiffies(root, os.getpgid(0) if pgid is None else pgid)
    tick_s = 1.0 / os.sysconf("SC_CLK_TCK")
    busy, steal = machine
    return CpuSnapshot(wall_s=wall_s, busy_s=busy * tick_s, steal_s=steal * tick_s, ours_s=ours * tick_s)


def load_between(before: CpuSnapshot | None, after: CpuSnapshot | None) -> Load | None:
    """None when either is None or the interval is not positive."""
    if before is None or after is None:
        return None
    wall_s = after.wall_s - before.wall_s
    if wall_s <= 0:
        return None
    other_s = (after.busy_s - before.busy_s) - (after.ours_s - before.ours_s)
    steal_s = after.steal_s - before.steal_s
    return Load(other_cores=max(0.0, other_s / wall_s), steal_cores=max(0.0, steal_s / wall_s))


def mean_load(loads: Sequence[Load | None], weights: Sequence[float] | None = None) -> Load | None:
    """The average of the known loads, weighted by ``weights`` (e.g. how long each was observed).

    None if no load is known, or their weights add up to nothing.
    """
    pairs = [
        (load, w) for load, w in zip(loads, weights or [1.0] * len(loads), strict=True) if load is not None
    ]
    total = sum(w for _, w in pairs)
    if not total:
        return None
    return Load(
        other_cores=sum(load.other_cores * w for load, w in pairs) / total,
        steal_cores=sum(load.steal_cores * w for load, w in pairs) / total,
    )


def busy_reason(load: Load | None) -> str | None:
    """A one-line reason when other processes and steal took BUSY_CORES or more; None otherwise or unknown."""
    if load is None or load.other_cores + load.steal_cores < BUSY_CORES:
        return None
    other = f"other processes took {load.other_cores:.1f} cores"
    if load.steal_cores < _SHOWN:
        return f"busy machine: {other} while this was sampled"
    if load.other_cores < _SHOWN:
        return f"busy machine: the hypervisor stole {load.steal_cores:.1f} cores while this was sampled"
    return f"busy machine: {other} and the hypervisor stole {load.steal_cores:.1f} while this was sampled"
