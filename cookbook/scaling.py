"""Why a variant scales or not: Amdahl's serial fraction, and memory- or compute-bound."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

__all__ = ["MEMORY_BOUND_SHARE", "Bound", "bound", "serial_fraction"]

Bound = Literal["memory", "compute"]

# A variant that streams at least this share of the machine's measured copy
# bandwidth is called memory-bound: more workers mostly queue for memory.
MEMORY_BOUND_SHARE = 0.5


def serial_fraction(times: Mapping[int, float]) -> float | None:
    """Fit Amdahl's law ``T(n) = T(1) * (s + (1 - s) / n)`` and return ``s``.

    ``times`` maps worker counts to median seconds and must include 1 and
    one other count. The fit is least squares of ``T`` against ``1/n``;
    ``s`` is clamped to [0, 1] (overheads that grow with workers push the
    raw fit above 1; noise can push it below 0).
    """
    if 1 not in times or len(times) < 2:
        return None
    xs = [1.0 / n for n in times]
    ys = list(times.values())
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mean_x) ** 2 for x in xs
    )
    serial_part = mean_y - slope * mean_x  # T at infinitely many workers
    total = serial_part + slope  # T at one worker, on the fitted line
    if total <= 0:
        return None
    return min(1.0, max(0.0, serial_part / total))


def bound(bytes_per_second: float, bandwidth: float) -> Bound:
    """Call a variant memory-bound when it moves at least half the machine's copy bandwidth."""
    return "memory" if bytes_per_second >= MEMORY_BOUND_SHARE * bandwidth else "compute"
