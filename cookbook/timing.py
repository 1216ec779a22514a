"""Time one step: warm it up until its calls stop getting faster, then take calibrated samples.

Learned from timeit's ``autorange``, asv's ``sample_time`` and pyperf's
calibration: a sample loops as many calls as it takes to last a floor, so
that a 3 ms compiled call is not timed alone against the timer's and the
pool's jitter, while a 300 ms Python call is one call per sample. Warm-up
is decided by measurement, not by a fixed count: CPython 3.11 specialises a
long loop within its first call (``dis.dis(f, adaptive=True)`` shows it),
yet the first calls in fresh loky workers can still be slower than later
ones (``scripts/warmup_probe.py`` shows how much on a machine), so calls go
on until two in a row fail to beat the fastest so far.
"""

from __future__ import annotations

import math
import resource
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from cookbook import load as machine_load
from cookbook.results import Sample

__all__ = [
    "WARM_PATIENCE",
    "WARM_TOLERANCE",
    "calls_per_sample",
    "process_pool_identity",
    "shutdown_process_pool",
    "take_sample",
    "time_call",
    "warm_up",
]

WARM_TOLERANCE = 0.03  # a warm-up call must beat the fastest so far by this share to count as faster
WARM_PATIENCE = 2  # warm-up ends after this many calls in a row that were not faster


def time_call(call: Callable[[], Any]) -> tuple[Any, float]:
    """Run ``call`` once and return its result and wall time in seconds."""
    start = time.perf_counter()
    result = call()
    return result, time.perf_counter() - start


def warm_up(call: Callable[[], Any], *, max_calls: int, budget_s: float = math.inf) -> list[float]:
    """Call ``call`` until its times stop falling; return the time of each warm-up call.

    Ends after ``WARM_PATIENCE`` calls in a row that were not ``WARM_TOLERANCE``
    faster than the fastest before them, after ``max_calls`` calls, or once
    the calls have taken ``budget_s`` (at least one call is always made).
    """
    times: list[float] = []
    not_faster = 0
    while len(times) < max_calls:
        seconds = time_call(call)[1]
        if times and seconds > (1 - WARM_TOLERANCE) * min(times):
            not_faster += 1
        else:
            not_faster = 0
        times.append(seconds)
        if not_faster >= WARM_PATIENCE or sum(times) >= budget_s:
            break
    return times


def calls_per_sample(seconds_per_call: float, floor_s: float) -> int:
    """How many calls make a sample last at least ``floor_s``: one for calls longer than that."""
    if seconds_per_call <= 0:
        return 1
    return max(1, math.ceil(floor_s / seconds_per_call))


@dataclass(frozen=True)
class _Counters:
    page_faults: int
    cpu: machine_load.CpuSnapshot | None


def _counters() -> _Counters:
    cpu = machine_load.snapshot()
    return _Counters(resource.getrusage(resource.RUSAGE_SELF).ru_minflt, cpu)


def take_sample(call: Callable[[], Any], calls: int, round_: int) -> tuple[Sample, Any]:
    """Time ``calls`` calls of ``call`` as one sample of round ``round_``; return it and the last result.

    Outside the timed loop it reads what else took the CPUs (``cookbook.load``)
    and the page faults of this process, which a fresh output array causes.
    """
    before = _counters()
    start = time.perf_counter()
    result = None
    for _ in range(calls):
        result = call()
    seconds = time.perf_counter() - start
    after = _counters()
    load = machine_load.load_between(before.cpu, after.cpu)
    sample = Sample(
        round=round_,
        per_call_s=seconds / calls,
        calls=calls,
        page_faults_per_call=(after.page_faults - before.page_faults) / calls,
        other_cores=None if load is None else load.other_cores,
        steal_cores=None if load is None else load.steal_cores,
        observed_s=None if before.cpu is None or after.cpu is None else after.cpu.wall_s - before.cpu.wall_s,
    )
    return sample, result


def process_pool_identity() -> Hashable:
    """The PIDs of joblib's reusable loky pool, or None: a change means fresh, unwarmed workers.

    loky resizes its pool when a call asks for another worker count, which
    replaces workers; a step sampled after that is warmed up again.
    """
    from joblib.externals.loky import reusable_executor

    executor = reusable_executor._executor  # no public accessor for the singleton
    processes = getattr(executor, "_processes", None)
    return None if not processes else frozenset(processes)


def shutdown_process_pool() -> None:
    """Stop joblib's reusable loky pool, so the next process variant starts its own.

    Each process variant's first call then pays a pool start, and its workers
    start with the current ``sys.path`` (which recipes loaded by path need).
    """
    from joblib.externals.loky import reusable_executor

    executor = reusable_executor._executor  # no public accessor for the singleton
    if executor is not None:
        executor.shutdown(wait=True, kill_workers=True)
