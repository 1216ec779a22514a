"""Compare two runs' JSON files: the time ratio per recipe, variant and worker count.

A change is flagged only where the two runs' ranges of repeats do not
overlap (new min above old max, or new max below old min): a difference
within the run-to-run spread is not called a change. The runs may come from
two machines or two interpreters; the header says what differs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Change", "CompareError", "compare_runs", "environment_differences", "load_run"]

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
    """One recipe x variant x workers timed in both runs."""

    recipe: str
    variant: str
    workers: int
    old_s: float
    new_s: float
    verdict: str  # "slower", "faster", or "" within the spread

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
    if not (isinstance(run, dict) and isinstance(run.get("recipes"), list) and "environment" in run):
        raise CompareError(f"{path}: not a cookbook results file (written by --json)")
    return run


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
        verdict = "slower" if b["min_s"] > a["max_s"] else "faster" if b["max_s"] < a["min_s"] else ""
        changes.append(Change(*key, old_s=a["median_s"], new_s=b["median_s"], verdict=verdict))
    only = [
        f"{r} {v} x{w}: only in the {'old' if (r, v, w) in before else 'new'} run"
        for r, v, w in sorted(before.keys() ^ after.keys())
    ]
    return sorted(changes, key=lambda c: (c.recipe, c.variant, c.workers)), only


def environment_differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """One line per environment field that differs between the runs."""
    before, after = old["environment"], new["environment"]
    return [
        f"{key}: {before.get(key)} -> {after.get(key)}"
        for key in ENVIRONMENT_KEYS
        if before.get(key) != after.get(key)
    ]
