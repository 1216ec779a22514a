"""What a run measured, and the figures derived from it (speedup, efficiency, scaling)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from cookbook.scaling import Bound, bound, serial_fraction
from cookbook.timing import Timing

__all__ = ["Measurement", "RecipeRun", "Status"]

Status = Literal["OK", "MISMATCH", "ERROR", "TIMEOUT"]


@dataclass
class Measurement:
    """One variant at one worker count."""

    variant: str
    workers: int
    status: Status
    detail: str = ""  # the mismatch or the error, empty when OK
    max_error: float | None = None
    first_s: float | None = None  # the first call: JIT compile, pool start
    timing: Timing | None = None  # the repeats; None with --check-only or on error
    inner_threads: int | None = None  # the BLAS/OpenMP thread limit it ran under; None: not limited
    backend: str | None = None  # where its joblib calls ran (loky, dask); None: it makes none
    cluster: str | None = None  # the dask cluster it ran on


@dataclass
class RecipeRun:
    """Every measurement of one recipe at one size."""

    recipe: str
    path: Path
    size: int
    size_label: str
    not_applicable: dict[str, str]
    measurements: list[Measurement] = field(default_factory=list)
    bytes_per_call: int | None = None  # memory a call reads and writes, at least
    thread_pools: dict[str, Any] | None = None  # the native pools of the process that ran it

    @property
    def ok(self) -> bool:
        return all(m.status == "OK" for m in self.measurements)

    def median_s(self, variant: str, workers: int) -> float | None:
        for m in self.measurements:
            if m.variant == variant and m.workers == workers and m.timing and m.status == "OK":
                return m.timing.median_s
        return None

    def speedup(self, m: Measurement) -> float | None:
        """Serial median time over this measurement's median time."""
        reference = self.median_s("serial", 1)
        if reference is None or m.timing is None or m.status != "OK":
            return None
        return reference / m.timing.median_s

    def efficiency(self, m: Measurement) -> float | None:
        """Speedup over the same variant at 1 worker, divided by the workers."""
        one = self.median_s(m.variant, 1)
        if one is None or m.timing is None or m.status != "OK":
            return None
        return one / m.timing.median_s / m.workers

    def serial_fraction(self, variant: str) -> float | None:
        """Amdahl's serial fraction fitted to this variant's medians over its worker counts."""
        rows = [m for m in self.measurements if m.variant == variant]
        times = {m.workers: m.timing.median_s for m in rows if m.timing and m.status == "OK"}
        return serial_fraction(times) if len(times) == len(rows) else None

    def bytes_per_second(self, m: Measurement) -> float | None:
        if self.bytes_per_call is None or m.timing is None or m.status != "OK":
            return None
        return self.bytes_per_call / m.timing.median_s

    def bound(self, m: Measurement, bandwidth: float | None) -> Bound | None:
        rate = self.bytes_per_second(m)
        return None if rate is None or not bandwidth else bound(rate, bandwidth)

    def as_dict(self, bandwidth: float | None = None) -> dict[str, Any]:
        return {
            "recipe": self.recipe,
            "path": str(self.path),
            "size": self.size,
            "size_label": self.size_label,
            "not_applicable": self.not_applicable,
            "bytes_per_call": self.bytes_per_call,
            "thread_pools": self.thread_pools,
            "serial_fraction": {
                v: self.serial_fraction(v) for v in dict.fromkeys(m.variant for m in self.measurements)
            },
            "measurements": [
                {
                    "variant": m.variant,
                    "workers": m.workers,
                    "status": m.status,
                    "detail": m.detail,
                    "max_error": m.max_error,
                    "inner_threads": m.inner_threads,
                    "backend": m.backend,
                    "cluster": m.cluster,
                    "first_s": m.first_s,
                    "repeats_s": list(m.timing.repeats_s) if m.timing else None,
                    "median_s": m.timing.median_s if m.timing else None,
                    "min_s": m.timing.min_s if m.timing else None,
                    "max_s": m.timing.max_s if m.timing else None,
                    "speedup": self.speedup(m),
                    "efficiency": self.efficiency(m),
                    "bytes_per_s": self.bytes_per_second(m),
                    "bound": self.bound(m, bandwidth),
                }
                for m in self.measurements
            ],
        }
