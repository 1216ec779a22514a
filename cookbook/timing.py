"""Time one variant: the first call apart, then warm-up calls, then repeats."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Timing", "shutdown_process_pool", "time_call", "time_repeats"]


@dataclass(frozen=True)
class Timing:
    """Seconds per call of the timed repeats."""

    repeats_s: tuple[float, ...]

    @property
    def median_s(self) -> float:
        return statistics.median(self.repeats_s)

    @property
    def min_s(self) -> float:
        return min(self.repeats_s)

    @property
    def max_s(self) -> float:
        return max(self.repeats_s)


def time_call(call: Callable[[], Any]) -> tuple[Any, float]:
    """Run ``call`` once and return its result and wall time in seconds."""
    start = time.perf_counter()
    result = call()
    return result, time.perf_counter() - start


def time_repeats(call: Callable[[], Any], *, warm_up: Callable[[], Any], warmups: int, repeat: int) -> Timing:
    """Call ``warm_up`` ``warmups`` times, then time ``call`` ``repeat`` times.

    The warm-up matters for process pools: CPython 3.11 specialises a
    function's bytecode only after about 8 calls, in every fresh worker, and
    the first calls there ran 1.35-1.5x slower (shared/BASELINES.md). Warm-up
    calls on a small input give each worker those calls cheaply.
    """
    for _ in range(warmups):
        warm_up()
    return Timing(tuple(time_call(call)[1] for _ in range(repeat)))


def shutdown_process_pool() -> None:
    """Stop joblib's reusable loky pool, so the next process variant starts its own.

    Each process variant's first call then pays a pool start, and its workers
    start with the current ``sys.path`` (which recipes loaded by path need).
    """
    from joblib.externals.loky import reusable_executor

    executor = reusable_executor._executor  # no public accessor for the singleton
    if executor is not None:
        executor.shutdown(wait=True, kill_workers=True)
