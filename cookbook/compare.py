"""Compare two runs' JSON files: the time ratio per recipe, variant and worker count.

A change is called as asv compare calls one: the two runs' per-call samples
must differ by a two-sided Mann-Whitney U test at p < 0.01 AND the new
median must be at least 1.1 times the old (slower) or at most 1/1.1 of it
(faster). asv's threshold is p < 0.002, which 6 samples against 6 can never
reach (their smallest p is 0.0022); 0.01 lets a complete separation of 6
against 6 count. A difference inside the factor is not called a change even
when it is significant: the same code on the same machine moves by a few
percent from one run to the next (clock, placement, other work), so such a
move says little about the code. The runs may come from two machines or two
interpreters; the header says what differs.

The two medians' 95% intervals must not overlap either. Rounds interleave
the steps within a run, not two runs: the whole machine may be a few
percent faster for the second run, which a rank test on samples from two
different minutes calls significant.

Both files are read into the one results model (``cookbook.results``), and
each median and interval is derived from the samples by ``cookbook.figures``,
as ``render`` and the report derive them: never read from the file's own copy.
"""

from __future__ import annotations

from dataclasses import dataclass

from cookbook.figures import derive
from cookbook.results import Measurement, Session
from cookbook.stats import Interval, differs

__all__ = [
    "ALPHA",
    "FACTOR",
    "Change",
    "compare_runs",
    "different_machines",
    "environment_differences",
]

FACTOR = 1.1  # smallest ratio of medians called a change
ALPHA = 0.01  # Mann-Whitney U significance level

ENVIRONMENT_KEYS = (
    "python",
    "implementation",
    "gil_enabled",
    "free_threaded_build",
    "cpu",
    "cores",
    "libraries",
)
MACHINE_KEYS = ("python", "implementation", "gil_enabled", "free_threaded_build", "cpu", "cores")


@dataclass(frozen=True)
class Change:
    """One recipe x variant x workers timed in both runs, with both medians and their intervals."""

    recipe: str
    variant: str
    workers: int
    old: Interval
    new: Interval
    verdict: str  # "slower", "faster", or "" (no significant change beyond FACTOR)
    p_value: float | None = None  # None with fewer than 2 samples on a side

    @property
    def ratio(self) -> float:
        """New median time over old: above 1 is slower."""
        return self.new.value / self.old.value


def _timed(session: Session) -> dict[tuple[str, str, int], tuple[Measurement, Interval]]:
    found = {}
    for run in session.runs:
        for row in derive(run, session.bandwidth):
            if row.median is not None:
                m = row.measurement
                found[(run.recipe, m.variant, m.workers)] = (m, row.median)
    return found


def compare_runs(old: Session, new: Session) -> tuple[list[Change], list[str]]:
    """Return the changes for every key timed in both runs, and the keys timed in only one."""
    before, after = _timed(old), _timed(new)
    changes = []
    for key in before.keys() & after.keys():
        (a, a_median), (b, b_median) = before[key], after[key]
        verdict, p = differs(a.per_call_s, b.per_call_s, factor=FACTOR, alpha=ALPHA)
        if verdict and _overlap(a_median, b_median):
            verdict = ""
        changes.append(Change(*key, old=a_median, new=b_median, verdict=verdict, p_value=p))
    only = [
        f"{r} {v} x{w}: only in the {'old' if (r, v, w) in before else 'new'} run"
        for r, v, w in sorted(before.keys() ^ after.keys())
    ]
    return sorted(changes, key=lambda c: (c.recipe, c.variant, c.workers)), only


def _overlap(a: Interval, b: Interval) -> bool:
    """Whether two medians' 95% intervals overlap; False when either has none (too few samples)."""
    if a.low is None or a.high is None or b.low is None or b.high is None:
        return False
    return a.low <= b.high and b.low <= a.high


def environment_differences(old: Session, new: Session) -> list[str]:
    """One line per environment field that differs between the runs."""
    before, after = old.environment, new.environment
    return [
        f"{key}: {before.get(key)} -> {after.get(key)}"
        for key in ENVIRONMENT_KEYS
        if before.get(key) != after.get(key)
    ]


def different_machines(old: Session, new: Session) -> bool:
    """Whether the runs come from two machines or two interpreters (not only other library versions)."""
    return any(old.environment.get(k) != new.environment.get(k) for k in MACHINE_KEYS)
