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

Where both runs carry intervals (schema 2), the two medians' 95% intervals
must not overlap either. Rounds interleave the steps within a run, not two
runs: the whole machine may be a few percent faster for the second run,
which a rank test on samples from two different minutes calls significant.
Reads results schemas 1
(``repeats_s``) and 2 (``samples`` taken in rounds, with median intervals).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cookbook.stats import differs

__all__ = [
    "ALPHA",
    "FACTOR",
    "SCHEMAS",
    "Change",
    "CompareError",
    "compare_runs",
    "environment_differences",
    "load_run",
    "per_call_samples",
]

FACTOR = 1.1  # smallest ratio of medians called a change
ALPHA = 0.01  # Mann-Whitney U significance level
SCHEMAS = (1, 2)  # results schema versions this module reads

ENVIRONMENT_KEYS = (
    "python",
    "implementation",
    "gil_enabled",
    "free_threaded_build",
    "cpu",
    "cores",
    "libraries",
)


class CompareError(Exception):
    """A results file that cannot be read or is not a cookbook run."""


@dataclass(frozen=True)
class Change:
    """One recipe x variant x workers timed in both runs; intervals are None where the file has none."""

    recipe: str
    variant: str
    workers: int
    old_s: float
    new_s: float
    verdict: str  # "slower", "faster", or "" (no significant change beyond FACTOR)
    p_value: float | None = None  # None with fewer than 2 samples on a side
    old_low_s: float | None = None
    old_high_s: float | None = None
    new_low_s: float | None = None
    new_high_s: float | None = None

    @property
    def ratio(self) -> float:
        """New median time over old: above 1 is slower."""
        return self.new_s / self.old_s


def load_run(path: Path) -> dict[str, Any]:
    """Read a file written by ``--json``; raise CompareError naming the file on any problem."""
    try:
        run = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CompareError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CompareError(f"{path}: not a JSON file ({error})") from None
    if not isinstance(run, dict):
        raise CompareError(f"{path}: not a cookbook results file (written by --json)")
    schema = run.get("schema", 1)  # files from before the key was written are schema 1
    if type(schema) is not int or schema not in SCHEMAS:
        readable = " and ".join(str(s) for s in SCHEMAS)
        raise CompareError(f"{path}: results schema {schema!r}; this cookbook reads schemas {readable}")
    if not (isinstance(run.get("recipes"), list) and "environment" in run):
        raise CompareError(f"{path}: not a cookbook results file (written by --json)")
    return run


def per_call_samples(measurement: dict[str, Any]) -> list[float]:
    """The seconds per call of each sample: schema 2's ``samples``, else schema 1's ``repeats_s``."""
    samples = measurement.get("samples")
    if samples:
        return [float(s["per_call_s"]) for s in samples]
    return [float(s) for s in measurement.get("repeats_s") or []]


def _timed(run: dict[str, Any]) -> dict[tuple[str, str, int], dict[str, Any]]:
    return {
        (recipe["recipe"], m["variant"], m["workers"]): m
        for recipe in run["recipes"]
        for m in recipe["measurements"]
        if m.get("median_s")
    }


def compare_runs(old: dict[str, Any], new: dict[str, Any]) -> tuple[list[Change], list[str]]:
    """Return the changes for every key timed in both runs, and the keys timed in only one."""
    before, after = _timed(old), _timed(new)
    changes = []
    for key in before.keys() & after.keys():
        a, b = before[key], after[key]
        verdict, p = differs(per_call_samples(a), per_call_samples(b), factor=FACTOR, alpha=ALPHA)
        if verdict and _intervals_overlap(a, b):
            verdict = ""
        changes.append(
            Change(
                *key,
                old_s=a["median_s"],
                new_s=b["median_s"],
                verdict=verdict,
                p_value=p,
                old_low_s=a.get("median_low_s"),
                old_high_s=a.get("median_high_s"),
                new_low_s=b.get("median_low_s"),
                new_high_s=b.get("median_high_s"),
            )
        )
    only = [
        f"{r} {v} x{w}: only in the {'old' if (r, v, w) in before else 'new'} run"
        for r, v, w in sorted(before.keys() ^ after.keys())
    ]
    return sorted(changes, key=lambda c: (c.recipe, c.variant, c.workers)), only


def _intervals_overlap(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether the two medians' 95% intervals overlap; False when either run has none (schema 1)."""
    bounds: list[float] = []
    for m in (a, b):
        for key in ("median_low_s", "median_high_s"):
            bound = m.get(key)
            if bound is None:
                return False
            bounds.append(float(bound))
    old_low, old_high, new_low, new_high = bounds
    return old_low <= new_high and new_low <= old_high


def environment_differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """One line per environment field that differs between the runs."""
    before, after = old["environment"], new["environment"]
    return [
        f"{key}: {before.get(key)} -> {after.get(key)}"
        for key in ENVIRONMENT_KEYS
        if before.get(key) != after.get(key)
    ]
