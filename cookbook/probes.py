"""Probes of what a call really does: does it leave the GIL free, does its work run at once.

They watch behaviour, not names, so that a variant cannot pass them by
calling the right function the wrong way:

- ``gil_probe``: a Python thread beside the call lets go of the GIL at
  every step of its loop and times how long it waits to get it back. It
  barely uses the GIL itself, so the share of the time it waits is the
  share the call's threads held it: all of it for Python code and for
  compiled code that keeps the GIL, next to none for a ``nogil`` kernel or
  a large NumPy call. Its waits for a core, while the call's threads take
  them all, are not waits for the GIL (which sleeps): the kernel counts
  them (``schedstat``'s run-queue time) and they are taken out. The GIL it
  watches is the calling interpreter's: workers on subinterpreters (Python
  3.14's ``InterpreterPoolExecutor``) each hold a GIL of their own, which
  never stops this one, so such a call reads near 0 however much Python it runs.
- ``concurrency_probe``: another process reads the CPU time of every thread
  of this process and of its child processes from ``/proc`` (nanoseconds,
  ``schedstat``) every millisecond; the figure is the most cores they kept
  busy in one 20 ms window. Above 1, two of them ran at once, which no
  sequence of calls one after another can fake.
- ``threads_inside``: threads whose Python stacks are inside a file's code
  at one instant, the caller's left out. Threads serialised by the GIL take
  turns, so only this tells that two of them are in the middle of the work
  together, where the CPU probe sees one at a time.
"""

from __future__ import annotations

import itertools
import json
import os
import select
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from types import FrameType
from typing import Any

__all__ = [
    "Concurrency",
    "GilReading",
    "children_cpu_s",
    "concurrency_probe",
    "gil_probe",
    "pools_limited_in_a_new_thread",
    "probes_supported",
    "threads_inside",
]

STALL_S = 2e-4  # a wait of the probe's thread longer than this is a wait for the GIL (or the CPU)
WINDOW_S = 0.02  # the concurrency probe's window
PERIOD_S = 0.001  # how often its sampler reads /proc
WORKING = 0.05  # a thread that ran this share of a window worked in it


@dataclass(frozen=True)
class GilReading:
    """How much of a call's time a Python thread beside it waited for the GIL."""

    held: float  # share of the call's time the call's threads held the GIL (0 to 1)
    seconds: float  # how long the call was watched


def gil_probe(call: Callable[[], Any], *, min_s: float = 0.2, readings: int = 1) -> GilReading:
    """Call ``call`` (repeatedly, for at least ``min_s``) beside the probe's thread; see the module.

    With ``readings`` > 1, the lowest of that many. Nothing is subtracted for
    the probe's own waits with nothing beside it: on a virtual machine they
    come in bursts (the host's, unseen in this one's run queue), so another
    window's figure does not tell this one's. A burst can only raise a
    reading, never lower it: the lowest reading is the least disturbed.
    """
    lowest = min((_stalled_share(call, min_s) for _ in range(readings)), key=lambda s: s.share)
    return GilReading(lowest.share, lowest.seconds)


@dataclass(frozen=True)
class _Stalls:
    share: float
    seconds: float


def _stalled_share(call: Callable[[], Any], min_s: float) -> _Stalls:
    stop = threading.Event()
    box = [0.0, 0.0, 0.0]  # stalled seconds, first and last time the counter saw
    started = threading.Event()

    def count() -> None:
        clock, pause = time.perf_counter, time.sleep
        queued = _run_queue_wait_s()
        stalled, last = 0.0, clock()
        box[1] = last
        started.set()
        while not stop.is_set():
            pause(0)  # lets go of the GIL, and waits to get it back
            now = clock()
            if now - last > STALL_S:
                stalled += now - last
            last = now
        # A wait for a core (the call's threads took both) is not a wait for the GIL, which sleeps.
        box[0], box[2] = max(0.0, stalled - (_run_queue_wait_s() - queued)), last

    counter = threading.Thread(target=count, name="gil-probe", daemon=True)
    counter.start()
    started.wait()
    _call_for(call, min_s)
    stop.set()
    counter.join()
    seconds = box[2] - box[1]
    return _Stalls(box[0] / seconds if seconds > 0 else 0.0, seconds)


def _run_queue_wait_s() -> float:
    """How long the calling thread has waited, runnable, for a core (0 where ``/proc`` does not say)."""
    try:
        return int(Path("/proc/thread-self/schedstat").read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


@dataclass(frozen=True)
class Concurrency:
    """How many cores a call kept busy at its busiest, by its threads and by its child processes.

    Over one window, CPU time above the window's length is only possible
    if two threads ran at once for that long: a peak of 1.5 means two ran
    side by side for at least half of a window, which no sequence of calls
    one after another can give.
    """

    peak_cores: float  # every thread of this process and its descendants (the sampler's left out)
    peak_child_cores: float  # the descendants alone: worker processes
    threads_working: int  # the most threads (of any of the processes) that each worked in one window
    children_working: int  # the most child processes that each worked in one window
    cores_busy: float  # CPU time of all of them over the whole wall time
    windows: int


def probes_supported() -> bool:
    """Whether ``/proc`` gives per-thread CPU time here (Linux with schedstat)."""
    return Path(f"/proc/self/task/{threading.get_native_id()}/schedstat").exists()


def concurrency_probe(call: Callable[[], Any], *, min_s: float = 0.3) -> Concurrency:
    """Call ``call`` (repeatedly, for at least ``min_s``) while another process samples every thread.

    The sampler is a process of its own so that it never waits for this
    process's GIL, and reads ``/proc`` every millisecond or so: a thread
    that ends between two reads takes its last moments with it.
    """
    if not probes_supported():
        raise RuntimeError("per-thread CPU time is not readable here (needs Linux /proc schedstat)")
    command = [sys.executable, "-m", "cookbook.probes", str(os.getpid())]
    with subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as sampler:
        assert sampler.stdin is not None and sampler.stdout is not None
        if sampler.stdout.readline().strip() != "ready":
            raise RuntimeError("the concurrency sampler did not start")
        _call_for(call, min_s)
        sampler.stdin.close()  # tells it to stop
        return Concurrency(**json.loads(sampler.stdout.readline()))


def threads_inside(call: Callable[[], Any], filename: str, *, min_s: float = 0.3) -> int:
    """The most threads, other than the caller, seen at one instant with a frame of ``filename``.

    The switch interval is cut to 10 µs meanwhile: threads that take turns
    on the GIL then do so inside each of their tasks, however short, rather
    than one task after another.
    """
    caller, stop, most = threading.get_ident(), threading.Event(), [0]

    def watch() -> None:
        me = threading.get_ident()
        while not stop.is_set():
            inside = sum(
                _runs_file(frame, filename)
                for ident, frame in sys._current_frames().items()
                if ident not in (caller, me)
            )
            most[0] = max(most[0], inside)
            time.sleep(PERIOD_S / 2)

    interval = sys.getswitchinterval()
    watcher = threading.Thread(target=watch, name="frames-probe", daemon=True)
    sys.setswitchinterval(1e-5)
    try:
        watcher.start()
        _call_for(call, min_s)
    finally:
        stop.set()
        sys.setswitchinterval(interval)
    watcher.join()
    return most[0]


def _runs_file(frame: FrameType | None, filename: str) -> bool:
    while frame is not None:
        if frame.f_code.co_filename == filename:
            return True
        frame = frame.f_back
    return False


def _call_for(call: Callable[[], Any], min_s: float) -> None:
    """Call ``call`` at least once, and again until ``min_s`` have passed."""
    start = time.perf_counter()
    while True:
        call()
        if time.perf_counter() - start >= min_s:
            return


def _sample(pid: int) -> Concurrency:
    """Sample ``pid``'s family, less this sampler, until stdin closes (the sampler process's loop)."""
    snapshots = []
    while not select.select([sys.stdin], [], [], PERIOD_S)[0]:
        snapshots.append((time.perf_counter(), _cpu_ns(pid, skip=os.getpid())))
    return _busiest_window(snapshots, pid)


def _busiest_window(snapshots: list[tuple[float, dict[tuple[int, int], int]]], me: int) -> Concurrency:
    """Add up each thread's CPU time between consecutive snapshots, in windows of ``WINDOW_S``.

    Consecutive snapshots, not a window's ends: a thread that starts and
    ends inside one window would be missing from both ends.
    """
    peak = peak_children = 0.0
    windows, threads, working, spent_ns, watched_s = 0, 0, 0, 0, 0.0
    ran: dict[tuple[int, int], int] = {}
    window_start = snapshots[0][0] if snapshots else 0.0
    for (_, before), (now, after) in itertools.pairwise(snapshots):
        for task, ns in after.items():
            ran[task] = ran.get(task, 0) + ns - before.get(task, 0)  # a new thread: all its time
        length = now - window_start
        if length < WINDOW_S:
            continue
        total = sum(ran.values())
        children: dict[int, int] = {}
        for (pid, _), ns in ran.items():
            if pid != me:
                children[pid] = children.get(pid, 0) + ns
        peak = max(peak, total / 1e9 / length)
        peak_children = max(peak_children, sum(children.values()) / 1e9 / length)
        threads = max(threads, sum(ns >= WORKING * length * 1e9 for ns in ran.values()))
        working = max(working, sum(ns >= WORKING * length * 1e9 for ns in children.values()))
        spent_ns += total
        watched_s += length
        windows += 1
        ran, window_start = {}, now
    busy = spent_ns / 1e9 / watched_s if watched_s else 0.0
    return Concurrency(peak, peak_children, threads, working, busy, windows)


def _cpu_ns(pid: int, *, skip: int) -> dict[tuple[int, int], int]:
    """CPU nanoseconds of every thread of ``pid`` and of its descendants but ``skip``, by (pid, tid)."""
    found: dict[tuple[int, int], int] = {}
    for process in _family(pid):
        if process == skip:
            continue
        for tid in _tids(process):
            try:
                found[(process, tid)] = int(
                    Path(f"/proc/{process}/task/{tid}/schedstat").read_text().split()[0]
                )
            except (OSError, ValueError, IndexError):  # the thread ended between the listing and the read
                continue
    return found


def children_cpu_s() -> float | None:
    """CPU seconds used so far by this process's descendants (live ones), or None without ``/proc``."""
    me = os.getpid()
    if not Path(f"/proc/{me}/stat").exists():
        return None
    ticks = 0
    for process in _family(me):
        if process == me:
            continue
        try:  # utime and stime are fields 14 and 15, after the command name in parentheses
            fields = Path(f"/proc/{process}/stat").read_text().rpartition(")")[2].split()
            ticks += int(fields[11]) + int(fields[12])
        except (OSError, ValueError, IndexError):  # it ended meanwhile
            continue
    return ticks / os.sysconf("SC_CLK_TCK")


def pools_limited_in_a_new_thread(limit: int) -> list[str]:
    """The native thread pools that a thread started now sees at ``limit`` threads.

    Asked inside ``threadpool_limits``: OpenBLAS (pthreads) and MKL keep one
    limit for the process, but an OpenMP runtime keeps it per thread, so the
    threads a variant starts may not be limited at all.
    """
    from threadpoolctl import threadpool_info

    seen: list[list[dict[str, Any]]] = []
    thread = threading.Thread(target=lambda: seen.append(threadpool_info()), name="limit-probe")
    thread.start()
    thread.join()
    limited = [f"{p['internal_api']} ({p['prefix']})" for p in seen[0] if p.get("num_threads") == limit]
    return list(dict.fromkeys(limited))  # NumPy and SciPy may each load a copy of one library


def _tids(pid: int) -> list[int]:
    try:
        return [int(name) for name in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        return []


def _family(pid: int) -> Iterator[int]:
    yield pid
    for tid in _tids(pid):
        try:
            children = Path(f"/proc/{pid}/task/{tid}/children").read_text().split()
        except OSError:
            continue
        for child in children:
            yield from _family(int(child))


if __name__ == "__main__":  # the sampler process of concurrency_probe
    print("ready", flush=True)
    print(json.dumps(asdict(_sample(int(sys.argv[1])))), flush=True)
