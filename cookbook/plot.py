"""Draw one PNG per recipe: each variant's speedup over its own 1-worker time, and its time per call.

matplotlib is an optional extra (``pip install -e ".[plot]"``); ``require``
says so in one line before any work starts.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from cookbook.export import write_bytes
from cookbook.figures import Figures, Row
from cookbook.stats import Interval

__all__ = ["PlotError", "plot_run", "require"]

MARKERS = "osD^v<>ph*"
LINESTYLES = ("-", "--", "-.", ":")


class PlotError(Exception):
    """Plots were asked for but cannot be drawn (matplotlib missing)."""


def require() -> None:
    """Raise PlotError, naming the extra to install, when matplotlib is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise PlotError('--plot needs matplotlib: pip install -e ".[plot]"') from None


def _series(figures: Figures) -> dict[str, dict[int, Row]]:
    """The timed rows of each variant, by worker count."""
    series: dict[str, dict[int, Row]] = {}
    for row in figures:
        if row.median is not None:
            series.setdefault(row.measurement.variant, {})[row.measurement.workers] = row
    return series


def _bars(estimates: list[Interval | None]) -> tuple[list[float], list[list[float]]]:
    """Values and matplotlib's error-bar lengths (below, above); zero where there is no interval."""
    values = [e.value if e else float("nan") for e in estimates]
    below = [e.value - e.low if e and e.low is not None else 0.0 for e in estimates]
    above = [e.high - e.value if e and e.high is not None else 0.0 for e in estimates]
    return values, [below, above]


def plot_run(figures: Figures, folder: Path) -> Path:
    """Write ``folder/<recipe>.png`` atomically and return its path."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no display needed
    import matplotlib.pyplot as plt

    run = figures.run
    series = _series(figures)
    workers = sorted({n for times in series.values() for n in times})
    figure, (scaling, timing) = plt.subplots(1, 2, figsize=(11, 4.5), constrained_layout=True)
    (ideal,) = scaling.plot(workers, workers, color="black", linewidth=1, label="ideal: speedup = workers")
    for index, (variant, rows) in enumerate(series.items()):
        style: dict[str, Any] = {
            "marker": MARKERS[index % len(MARKERS)],
            "linestyle": LINESTYLES[index // 10 % len(LINESTYLES)],
            "color": plt.get_cmap("tab10")(index % 10),
            "label": variant,
            "capsize": 3,
        }
        counts = sorted(rows)
        values, bars = _bars([rows[n].median for n in counts])
        timing.errorbar(counts, values, yerr=bars, **style)
        if rows[counts[0]].measurement.parallel and 1 in rows:
            efficiencies = [rows[n].efficiency for n in counts]  # x workers: the speedup over 1 worker
            speedups = [e.scaled(n) if e else None for e, n in zip(efficiencies, counts, strict=True)]
            values, bars = _bars(speedups)
            scaling.errorbar(counts, values, yerr=bars, **style)
    scaling.set(
        title="speedup over its own 1-worker time (bars: 95% interval)",
        xlabel="workers",
        ylabel="speedup",
        xticks=workers,
    )
    timing.set(
        title="median time per call (bars: 95% interval)",
        xlabel="workers",
        ylabel="seconds (log scale)",
        xticks=workers,
    )
    timing.set_yscale("log")
    for axes in (scaling, timing):
        axes.grid(True, alpha=0.3)
    scaling.legend(handles=[ideal], fontsize="small", loc="upper left")
    timing.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.02, 0.5))
    figure.suptitle(f"{run.recipe} (size {run.size_label} = {run.size})")
    path = folder / f"{run.recipe}.png"
    buffer = io.BytesIO()
    try:
        figure.savefig(buffer, format="png", dpi=110)
    finally:
        plt.close(figure)
    write_bytes(path, buffer.getvalue())
    return path
