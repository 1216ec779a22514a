"""Flags on figures that should not be read at face value, each with its likely cause.

The 95% interval beside each figure says how precisely it is known: a wide
interval is not flagged again. A flag says what makes an interval, or the
figure itself, unreliable:

- ``drift``: the step's times rose or fell steadily over the rounds, so its
  median depends on when the rounds stopped;
- ``modes``: its samples fall in two groups far apart (two code paths, two
  placements of its threads), so the median stands for neither;
- ``busy``: another process (or the hypervisor) held CPU while it was
  sampled, so it was timed on fewer free cores than the table says;
- ``impossible``: an efficiency above 1 beyond its interval, which a
  parallel run on the same cores cannot reach; the flag names the likely cause;
- ``idle``: more workers than the recipe has tasks, so some had nothing to do
  and the efficiency divides by workers that never worked;
- ``few``: too few samples for a 95% interval (``--repeat`` below 6).

A precision goal that a step's budget did not reach is not a flag: its
interval shows how far it got (the report says which steps stopped so).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Literal

from cookbook import load as machine_load
from cookbook import stats
from cookbook.results import Measurement, RecipeRun

__all__ = ["FIRST_TOUCH_SHARE", "KINDS", "Flag", "FlagKind", "row_flags"]

FlagKind = Literal["drift", "modes", "busy", "impossible", "idle", "few"]
KINDS: tuple[FlagKind, ...] = ("drift", "modes", "busy", "impossible", "idle", "few")
PAGE_BYTES = 4096
FIRST_TOUCH_SHARE = 0.1  # page faults touching this share of a call's bytes make first touch a likely cause


@dataclass(frozen=True)
class Flag:
    kind: FlagKind
    reason: str


def row_flags(
    m: Measurement, one: Measurement | None, efficiency: stats.Interval | None, run: RecipeRun
) -> list[Flag]:
    """The flags of a timed row: ``one`` is its variant's 1-worker row, ``efficiency`` its own."""
    if not m.timed or run.sampling is None:
        return []
    per_call = m.per_call_s
    found = [Flag("drift", r) for r in [stats.drift(per_call)] if r]
    found += [Flag("modes", r) for r in [stats.two_modes(per_call)] if r]
    busy = machine_load.busy_reason(_step_load(m))
    found += [Flag("busy", busy)] if busy else []
    if one is not None and efficiency is not None and m.workers > 1:
        found += [f for f in [_impossible(efficiency, one, m, run.bytes_per_call)] if f]
    found += [f for f in [_idle(m.workers, run.tasks)] if f]
    if run.sampling.max_rounds > 1 and len(per_call) < stats.FEWEST_FOR_INTERVAL:
        found.append(
            Flag("few", f"{len(per_call)} samples: a 95% interval needs {stats.FEWEST_FOR_INTERVAL}")
        )
    return found


def _step_load(m: Measurement) -> machine_load.Load | None:
    """The load over all of a step's samples: CPU seconds over wall seconds, not a mean of ratios.

    /proc counts in 10 ms ticks, so one tick in a 2 ms sample reads as 5 cores;
    weighted by how long each sample was observed, the ticks average out.
    """
    known = [s for s in m.samples if s.other_cores is not None and s.observed_s is not None]
    loads = [machine_load.Load(s.other_cores or 0.0, s.steal_cores or 0.0) for s in known]
    return machine_load.mean_load(loads, [s.observed_s or 0.0 for s in known])


def _idle(workers: int, tasks: int | None) -> Flag | None:
    """Flag more workers than tasks: the efficiency divides by workers of which some never worked."""
    if tasks is None or workers <= tasks:
        return None
    return Flag(
        "idle",
        f"{workers} workers for {tasks} tasks: at most {tasks} work at once, yet the efficiency "
        f"divides by {workers}; at most {tasks / workers:.2f} is reachable",
    )


def _impossible(
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
