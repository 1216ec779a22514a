"""The figures a row shows, derived from what was measured: here, and nowhere else.

Every consumer of a run (the terminal report, the JSON, CSV and Markdown
files, the plots, ``render``, ``compare`` and advise's judgement) reads a
row's median, speedup, efficiency, Amdahl's serial fraction, bytes per
second, bound and flags from :func:`derive`, which computes each of them
once from the samples. Nothing is read back from the derived figures a
results file also holds: they are written for other tools.

Speedup and efficiency are medians of ratios of samples taken in the same
round (see ``cookbook.measure``): drift of a shared machine that slows a
whole round cancels out of them. Every interval is a 95% distribution-free
interval of a median, from order statistics (``cookbook.stats``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from cookbook import trust
from cookbook.results import Measurement, RecipeRun
from cookbook.scaling import Bound, bound, serial_fraction
from cookbook.stats import Interval, median_interval, ratio_interval
from cookbook.trust import Flag

__all__ = ["Figures", "Row", "derive"]


@dataclass(frozen=True)
class Row:
    """One measurement and every figure derived from it."""

    measurement: Measurement
    median: Interval | None  # seconds per call
    speedup: Interval | None  # serial's time over this row's, paired by round
    efficiency: Interval | None  # the variant's 1-worker time over this row's, paired by round, / workers
    serial_fraction: float | None  # Amdahl's s, on the variant's row at its most workers (above 1)
    bytes_per_s: float | None
    bound: Bound | None  # memory or compute, against the machine's copy bandwidth
    flags: tuple[Flag, ...]  # why the row's figures should not be read at face value, if so

    @property
    def start_s(self) -> float | None:
        """The first call's time beyond the median: what starting a pool or compiling cost."""
        first = self.measurement.first_s
        return None if first is None or self.median is None else max(0.0, first - self.median.value)


@dataclass(frozen=True)
class Figures:
    """One recipe run's rows, each derived once, in the run's order."""

    run: RecipeRun
    rows: tuple[Row, ...]

    def __iter__(self) -> Iterator[Row]:
        return iter(self.rows)

    def row(self, variant: str, workers: int) -> Row | None:
        return next(
            (r for r in self.rows if r.measurement.variant == variant and r.measurement.workers == workers),
            None,
        )

    def timed(self, variant: str, workers: int) -> Row | None:
        """The row, if it was timed."""
        row = self.row(variant, workers)
        return row if row is not None and row.median is not None else None

    @property
    def most_workers(self) -> int:
        return max((r.measurement.workers for r in self.rows), default=1)


def derive(run: RecipeRun, bandwidth: float | None) -> Figures:
    """Every row's figures; ``bandwidth`` (bytes/s, or None) tells memory- from compute-bound rows."""
    medians = {(m.variant, m.workers): _median(m) for m in run.measurements}
    serial = _timed(run, "serial", 1)
    last = {m.variant: m for m in run.measurements}  # each variant's largest worker count
    rows = []
    for m in run.measurements:
        median = medians[(m.variant, m.workers)]
        one = _timed(run, m.variant, 1)
        speedup = ratio_interval(serial.by_round, m.by_round) if serial and median else None
        efficiency = ratio_interval(one.by_round, m.by_round, scale=1 / m.workers) if one and median else None
        rate = None if run.bytes_per_call is None or median is None else run.bytes_per_call / median.value
        fraction = None
        if last[m.variant] is m and m.workers > 1:
            times = {
                r.workers: medians[(r.variant, r.workers)] for r in run.measurements if r.variant == m.variant
            }
            if all(times.values()):
                fraction = serial_fraction({n: t.value for n, t in times.items() if t is not None})
        flags = trust.row_flags(m, one, efficiency, run) if median else []
        rows.append(
            Row(
                measurement=m,
                median=median,
                speedup=speedup,
                efficiency=efficiency,
                serial_fraction=fraction,
                bytes_per_s=rate,
                bound=None if rate is None or not bandwidth else bound(rate, bandwidth),
                flags=tuple(flags),
            )
        )
    return Figures(run, tuple(rows))


def _median(m: Measurement) -> Interval | None:
    return median_interval(m.per_call_s) if m.timed else None


def _timed(run: RecipeRun, variant: str, workers: int) -> Measurement | None:
    m = run.find(variant, workers)
    return m if m is not None and m.timed else None
