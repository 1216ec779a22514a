"""Flags on figures that should not be read at face value, each with its likely cause.

- ``unstable``: the samples spread too widely (as ``pyperf check`` warns), have
  two modes, or drift over the rounds;
- ``budget``: the step ran out of time before its interval was as narrow as asked;
- ``busy``: another process (or the hypervisor) held CPU while it was sampled;
- ``impossible``: an efficiency above 1 beyond its interval, which a parallel
  run on the same machine cannot reach; the flag names the likely cause;
- ``idle``: more workers than the recipe has tasks, so some had nothing to do.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from cookbook import load as machine_load
from cookbook import stats
from cookbook.options import Sampling

if TYPE_CHECKING:
    from cookbook.results import Measurement

__all__ = ["FIRST_TOUCH_SHARE", "Flag", "FlagKind", "idle_workers", "impossible_efficiency", "step_flags"]

FlagKind = Literal["unstable", "budget", "busy", "impossible", "idle"]
PAGE_BYTES = 4096
FIRST_TOUCH_SHARE = 0.1  # page faults touching this share of a call's bytes make first touch a likely cause


@dataclass(frozen=True)
class Flag:
    kind: FlagKind
    reason: str


def step_flags(m: Measurement, sampling: Sampling) -> list[Flag]:
    """The flags that one step's own samples call for."""
    per_call = m.per_call_s
    reasons = stats.instability(per_call, [s.seconds for s in m.samples], floor_s=sampling.floor_s)
    reasons += [r for r in (stats.two_modes(per_call), stats.drift(per_call)) if r]
    flags = [Flag("unstable", reason) for reason in reasons]
    median = m.median
    if m.stopped == "budget" and median is not None:
        width = median.relative_half_width
        reached = "no interval yet" if width is None else f"reached ±{width:.0%}"
        wanted = f"±{sampling.precision:.0%}"
        flags.append(
            Flag("budget", f"its {sampling.budget_s:g} s budget ran out before {wanted} ({reached})")
        )
    busy = machine_load.busy_reason(_step_load(m))
    return [*flags, *([Flag("busy", busy)] if busy else [])]


def _step_load(m: Measurement) -> machine_load.Load | None:
    """The load over all of a step's samples: CPU seconds over wall seconds, not a mean of ratios.

    /proc counts in 10 ms ticks, so one tick in a 2 ms sample reads as 5 cores;
    weighted by how long each sample was observed, the ticks average out.
    """
    known = [s for s in m.samples if s.other_cores is not None and s.observed_s is not None]
    loads = [machine_load.Load(s.other_cores or 0.0, s.steal_cores or 0.0) for s in known]
    return machine_load.mean_load(loads, [s.observed_s or 0.0 for s in known])


def idle_workers(workers: int, tasks: int | None) -> Flag | None:
    """Flag more workers than tasks: the efficiency divides by workers of which some never worked."""
    if tasks is None or workers <= tasks:
        return None
    return Flag(
        "idle",
        f"{workers} workers for {tasks} tasks: at most {tasks} work at once, yet the efficiency "
        f"divides by {workers}; at most {tasks / workers:.2f} is reachable",
    )


def impossible_efficiency(
    efficiency: stats.Interval, one: Measurement, m: Measurement, bytes_per_call: int | None
) -> Flag | None:
    """Flag an efficiency whose whole interval lies above 1, with the likeliest cause."""
    low = efficiency.low if efficiency.low is not None else efficiency.value
    if low <= 1.0:
        return None
    return Flag("impossible", f"efficiency above 1 on the same cores: {_cause(one, m, bytes_per_call)}")


def _cause(one: Measurement, m: Measurement, bytes_per_call: int | None) -> str:
    modes = stats.two_modes(one.per_call_s)
    if modes:
        return f"the 1-worker samples have {modes}"
    drifted = stats.drift(one.per_call_s) or stats.drift(m.per_call_s)
    if drifted:
        return f"drift between samples ({drifted})"
    faults = [s.page_faults_per_call for s in one.samples if s.page_faults_per_call is not None]
    if faults and bytes_per_call:
        touched = statistics.median(faults) * PAGE_BYTES
        if touched >= FIRST_TOUCH_SHARE * bytes_per_call:
            return (
                f"first-touch page faults: each 1-worker call faulted in {touched / 2**20:.0f} MiB of fresh "
                "memory, which more workers fault in side by side"
            )
    return "a slower 1-worker baseline (its own path, or a cache that one core's share of the data fits)"
