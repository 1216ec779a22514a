"""What a run measured, and the figures derived from it (speedup, efficiency, scaling) with intervals.

Speedup and efficiency are medians of ratios of samples taken in the same
round (see ``cookbook.measure``): drift of a shared machine that slows a
whole round cancels out of them. Every interval is a 95% distribution-free
interval of a median, from order statistics (``cookbook.stats``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from cookbook.options import Sampling
from cookbook.scaling import Bound, bound, serial_fraction
from cookbook.stats import Interval, median_interval, ratio_interval
from cookbook.trust import Flag, idle_workers, impossible_efficiency, step_flags

__all__ = ["Measurement", "RecipeRun", "Sample", "Status"]

Status = Literal["OK", "MISMATCH", "ERROR", "TIMEOUT"]


@dataclass(frozen=True)
class Sample:
    """One timed sample: ``calls`` calls in a row, in round ``round``."""

    round: int
    per_call_s: float
    calls: int
    page_faults_per_call: float | None = None  # minor faults of this process (first touch of new memory)
    other_cores: float | None = None  # CPU taken by other processes meanwhile, in cores; None: unknown
    steal_cores: float | None = None  # taken by the hypervisor, in cores; None: unknown
    observed_s: float | None = None  # the wall time those two were measured over

    @property
    def seconds(self) -> float:
        return self.per_call_s * self.calls


@dataclass
class Measurement:
    """One variant at one worker count."""

    variant: str
    workers: int
    status: Status
    detail: str = ""  # the mismatch or the error, empty when OK
    max_error: float | None = None
    first_s: float | None = None  # the first call: JIT compile, pool start
    warmup_s: list[float] = field(default_factory=list)  # the warm-up calls after it
    samples: list[Sample] = field(default_factory=list)  # empty with --check-only or on error
    stopped: str = ""  # why sampling ended: precision, budget, rounds
    rewarmed: int = 0  # warm-ups again because its process pool had been replaced
    inner_threads: int | None = None  # the BLAS thread limit it ran under; None: not limited
    limited_pools: list[str] = field(default_factory=list)  # the pools a worker thread saw limited
    gil_held: float | None = None  # share of a call's time it held the GIL (cookbook.probes), or None
    in_caller: bool = False  # a process variant whose work ran in this process: no pool at all
    backend: str | None = None  # where its joblib calls ran (loky, dask); None: it makes none
    cluster: str | None = None  # the dask cluster it ran on

    @property
    def timed(self) -> bool:
        return self.status == "OK" and bool(self.samples)

    @property
    def per_call_s(self) -> list[float]:
        return [s.per_call_s for s in self.samples]

    @property
    def by_round(self) -> dict[int, float]:
        return {s.round: s.per_call_s for s in self.samples}

    @property
    def median(self) -> Interval | None:
        return median_interval(self.per_call_s) if self.timed else None

    def to_dict(self) -> dict[str, Any]:
        """What was measured, as JSON holds it (and as the runner sends it)."""
        return dataclasses.asdict(self)  # samples included: asdict recurses into them

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> Measurement:
        known = {f.name for f in dataclasses.fields(cls)}
        fields = {k: v for k, v in record.items() if k in known}
        fields["samples"] = [Sample(**s) for s in record.get("samples") or []]
        return cls(**fields)


@dataclass
class RecipeRun:
    """Every measurement of one recipe at one size."""

    recipe: str
    path: Path
    size: int
    size_label: str
    not_applicable: dict[str, str]
    sampling: Sampling | None = None  # None with --check-only
    measurements: list[Measurement] = field(default_factory=list)
    bytes_per_call: int | None = None  # memory a call reads and writes, at least
    thread_pools: dict[str, Any] | None = None  # the native pools of the process that ran it
    tasks: int | None = None  # the recipe's N_TASKS: how many tasks its parallel variants split into

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> RecipeRun:
        """A run read back from a results file (``as_dict``; the derived figures are computed again)."""
        sampling = record.get("sampling")
        return cls(
            recipe=record["recipe"],
            path=Path(record["path"]),
            size=record["size"],
            size_label=record["size_label"],
            not_applicable=record["not_applicable"],
            sampling=None if sampling is None else Sampling(**sampling),
            measurements=[Measurement.from_dict(m) for m in record["measurements"]],
            bytes_per_call=record.get("bytes_per_call"),
            thread_pools=record.get("thread_pools"),
            tasks=record.get("tasks"),
        )

    @property
    def ok(self) -> bool:
        return all(m.status == "OK" for m in self.measurements)

    def find(self, variant: str, workers: int) -> Measurement | None:
        return next((m for m in self.measurements if m.variant == variant and m.workers == workers), None)

    def _timed(self, variant: str, workers: int) -> Measurement | None:
        m = self.find(variant, workers)
        return m if m is not None and m.timed else None

    def median_s(self, variant: str, workers: int) -> float | None:
        m = self._timed(variant, workers)
        return None if m is None or m.median is None else m.median.value

    def speedup(self, m: Measurement) -> Interval | None:
        """Serial's time over this measurement's, paired by round."""
        serial = self._timed("serial", 1)
        if serial is None or not m.timed:
            return None
        return ratio_interval(serial.by_round, m.by_round)

    def efficiency(self, m: Measurement) -> Interval | None:
        """The same variant's 1-worker time over this one's, paired by round, divided by the workers."""
        one = self._timed(m.variant, 1)
        if one is None or not m.timed:
            return None
        return ratio_interval(one.by_round, m.by_round, scale=1 / m.workers)

    def serial_fraction(self, variant: str) -> float | None:
        """Amdahl's serial fraction fitted to this variant's medians over its worker counts."""
        rows = [m for m in self.measurements if m.variant == variant]
        times = {m.workers: m.median.value for m in rows if m.median is not None}
        return serial_fraction(times) if len(times) == len(rows) else None

    def bytes_per_second(self, m: Measurement) -> float | None:
        if self.bytes_per_call is None or m.median is None:
            return None
        return self.bytes_per_call / m.median.value

    def bound(self, m: Measurement, bandwidth: float | None) -> Bound | None:
        rate = self.bytes_per_second(m)
        return None if rate is None or not bandwidth else bound(rate, bandwidth)

    def flags(self, m: Measurement) -> list[Flag]:
        """Why this row's figures should not be taken at face value, if they should not."""
        if not m.timed or self.sampling is None:
            return []
        found = step_flags(m, self.sampling)
        efficiency = self.efficiency(m)
        one = self._timed(m.variant, 1)
        if efficiency is not None and one is not None and m.workers > 1:
            impossible = impossible_efficiency(efficiency, one, m, self.bytes_per_call)
            found += [impossible] if impossible else []
        idle = idle_workers(m.workers, self.tasks)
        return found + ([idle] if idle else [])

    def as_dict(self, bandwidth: float | None = None) -> dict[str, Any]:
        return {
            "recipe": self.recipe,
            "path": str(self.path),
            "size": self.size,
            "size_label": self.size_label,
            "not_applicable": self.not_applicable,
            "sampling": None if self.sampling is None else dataclasses.asdict(self.sampling),
            "bytes_per_call": self.bytes_per_call,
            "thread_pools": self.thread_pools,
            "tasks": self.tasks,
            "serial_fraction": {
                v: self.serial_fraction(v) for v in dict.fromkeys(m.variant for m in self.measurements)
            },
            "measurements": [self._row(m, bandwidth) for m in self.measurements],
        }

    def _row(self, m: Measurement, bandwidth: float | None) -> dict[str, Any]:
        """A measurement with its derived figures: each estimate as value, low and high."""
        flags = self.flags(m)
        derived: dict[str, Any] = {}
        for name, estimate in (("median_s", m.median), ("speedup", self.speedup(m))):
            derived |= _estimate(name, estimate)
        derived |= _estimate("efficiency", self.efficiency(m))
        return {
            **m.to_dict(),
            **derived,
            "bytes_per_s": self.bytes_per_second(m),
            "bound": self.bound(m, bandwidth),
            "unstable": any(f.kind == "unstable" for f in flags),
            "flags": [dataclasses.asdict(f) for f in flags],
        }


def _estimate(name: str, estimate: Interval | None) -> dict[str, float | None]:
    """``name``, ``name_low``, ``name_high`` (a unit suffix such as ``_s`` stays last)."""
    stem, unit = (name[:-2], "_s") if name.endswith("_s") else (name, "")
    if estimate is None:
        return {name: None, f"{stem}_low{unit}": None, f"{stem}_high{unit}": None}
    return {name: estimate.value, f"{stem}_low{unit}": estimate.low, f"{stem}_high{unit}": estimate.high}
