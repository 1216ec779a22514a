"""Why a rung of a user's ladder loses, from what was measured, with the change that would fix it.

Each function reads figures that ``cookbook.advise`` measured (the watched
serial pass of ``cookbook.kernel.Examined``, the GIL probe, loky's round
trip, the timed rows) and returns one sentence, or None when the figures do
not show that cause. Nothing here is guessed from the kernel's source.
"""

from __future__ import annotations

import math
import statistics

from cookbook.kernel import FRESH_MEMORY_SHARE, Conversion, Examined, imbalance_bound
from cookbook.report import format_seconds
from cookbook.stats import Interval

__all__ = [
    "IMBALANCED",
    "NUMBA_GIL_SHARE",
    "PARALLEL_ALREADY",
    "already_parallel",
    "compile_repaid",
    "imbalance",
    "numba_gil",
    "process_costs",
    "system_time",
]

NUMBA_GIL_SHARE = 0.2  # a compiled nogil call holding the GIL this share of its time has a cause to find
PARALLEL_ALREADY = 1.3  # a serial pass that keeps this many cores busy already runs in parallel
IMBALANCED = 0.9  # the best efficiency uneven chunks allow, below which they are the limit
UNEXPLAINED = 1.1  # a process row slower than its work and shipping by this factor: something else costs


def numba_gil(held: float | None, conversion: Conversion | None) -> str | None:
    """Why ``numba.njit(nogil=True)`` calls hold the GIL: numba converting lists, measured; or not that."""
    if held is None or held < NUMBA_GIL_SHARE:
        return None
    head = f"a compiled call holds the GIL {held:.0%} of the time"
    if conversion is None:
        return (
            f"{head}, though its argument and result need no conversion: look in the kernel for print, "
            "objmode or a lock, which take the GIL back"
        )
    converted = f"numba converts the argument, a {conversion.argument}, and the result, a {conversion.result}"
    if conversion.array_call_s is None:
        return f"{head}: {converted}, holding the GIL, on every call: pass and return NumPy arrays"
    share = max(0.0, 1 - conversion.array_call_s / conversion.call_s)
    return (
        f"{head}: {converted}, holding the GIL, on every call; with its lists passed as NumPy arrays "
        f"(np.asarray) a call takes {format_seconds(conversion.array_call_s)} instead of "
        f"{format_seconds(conversion.call_s)}, so converting is {share:.0%} of a call: pass arrays"
    )


def already_parallel(examined: Examined, cores: int) -> str | None:
    """A kernel whose serial call keeps several cores busy: its pools, and the limit that lets rungs pay."""
    used = examined.cores_used
    if used < PARALLEL_ALREADY:
        return None
    pools = list(examined.pools) + (["numba's parallel=True threads"] if examined.numba_parallel else [])
    limits = (["threadpoolctl.threadpool_limits(1)"] if examined.pools else []) + (
        ["numba.set_num_threads(1)"] if examined.numba_parallel else []
    )
    named = ", ".join(pools) or "threads of its own"
    return (
        f"a serial call already keeps {used:.1f} of the {cores} cores busy ({named}): "
        f"threads or processes around it ask for more threads than there are cores; "
        f"{' and '.join(limits) or 'one thread for the kernel'} inside each worker lets them pay, "
        "if they pay at all: the kernel is parallel already"
    )


def imbalance(examined: Examined, workers: int) -> str | None:
    """Uneven chunks: the best efficiency a pool can reach on them, and the chunking that fixes it."""
    times = examined.chunk_s
    if workers < 2 or len(times) < 2:
        return None
    best = imbalance_bound(times, workers)
    if best >= IMBALANCED:
        return None
    return (
        f"the chunks are uneven: the longest takes {format_seconds(max(times))}, the median one "
        f"{format_seconds(statistics.median(times))}, so at {workers} workers no pool can reach an "
        f"efficiency above {best:.2f} on them: split the work into {4 * workers} or more chunks of "
        "about equal work"
    )


def system_time(examined: Examined) -> str | None:
    """A kernel that spends much of its time in page faults: new memory on every call."""
    if examined.system_share < FRESH_MEMORY_SHARE:
        return None
    faults = examined.page_faults / max(1, len(examined.chunk_s))
    return (
        f"a serial pass spent {examined.system_share:.0%} of its time in the system "
        f"({faults:,.0f} page faults a chunk): the kernel takes fresh memory on every call; reuse buffers "
        "(NumPy's out=, arrays made once) and every rung gains, threads most"
    )


def compile_repaid(compile_s: float | None, saved_per_chunk_s: float | None, chunks: int) -> str | None:
    """How many calls over all the chunks repay numba's compile, and how to pay it once."""
    if compile_s is None or saved_per_chunk_s is None or saved_per_chunk_s <= 0:
        return None
    calls = max(1, math.ceil(compile_s / (saved_per_chunk_s * chunks)))
    return (
        f"numba's compile, {format_seconds(compile_s)}, is repaid after {calls} call{'s' * (calls > 1)} "
        f"over the {chunks} chunks; @numba.njit(cache=True) keeps the compiled code on disk for later runs"
    )


def process_costs(
    measured: Interval, serial_s: float, workers: int, round_trip_s: float, balance: float = 1.0
) -> tuple[str, bool | None]:
    """Whether the work split over the workers and the shipping measured in loky's pool add up to a row.

    A call of ``workers`` processes takes at least its share of serial's work
    (over ``balance``, the best efficiency its chunks allow) and at most that
    plus a call that ships the same chunks with no work in it; above that,
    something the figures do not hold costs the rest. Returns the sentence,
    and whether they add up (None: one sample, not judged).
    """
    share = serial_s / workers / balance
    expected = share + round_trip_s
    uneven = f" (uneven chunks: {balance:.2f} at best)" if balance < 1.0 - 1e-9 else ""
    said = (
        f"{format_seconds(share)} of work per worker{uneven} plus {format_seconds(round_trip_s)} to send "
        "the chunks through loky's warm workers and the results back"
    )
    if measured.low is None:
        return f"{said}, against {format_seconds(measured.value)} measured (one sample: not judged)", None
    if measured.low <= UNEXPLAINED * expected:
        return f"its costs add up: {said}, against {format_seconds(measured.value)} measured", True
    unexplained = format_seconds(measured.value - expected)
    return (
        f"{format_seconds(measured.value)} a call, against {said}: {unexplained} a call is explained "
        "by neither (the workers' memory, their caches, a busy machine)"
    ), False
