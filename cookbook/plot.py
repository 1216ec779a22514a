"""Draw one PNG per recipe: each variant's speedup over its own 1-worker time, and its time per call.

matplotlib is an optional extra (``pip install -e ".[plot]"``); ``require``
says so in one line before any work starts.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from cookbook.export import write_bytes
from cookbook.recipe import is_single_threaded
from cookbook.results import RecipeRun

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


def _series(run: RecipeRun) -> dict[str, dict[int, float]]:
    """Median seconds per worker count, for each variant with a timing at every count it ran."""
    series: dict[str, dict[int, float]] = {}
    for m in run.measurements:
        if m.timing and m.status == "OK":
            series.setdefault(m.variant, {})[m.workers] = m.timing.median_s
    return series


def plot_run(run: RecipeRun, folder: Path) -> Path:
    """Write ``folder/<recipe>.png`` atomically and return its path."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no display needed
    import matplotlib.pyplot as plt

    series = _series(run)
    workers = sorted({n for times in series.values() for n in times})
    figure, (scaling, timing) = plt.subplots(1, 2, figsize=(11, 4.5), constrained_layout=True)
    (ideal,) = scaling.plot(workers, workers, color="black", linewidth=1, label="ideal: speedup = workers")
    for index, (variant, times) in enumerate(series.items()):
        style: dict[str, Any] = {
            "marker": MARKERS[index % len(MARKERS)],
            "linestyle": LINESTYLES[index // 10 % len(LINESTYLES)],
            "color": plt.get_cmap("tab10")(index % 10),
            "label": variant,
        }
        counts = sorted(times)
        timing.plot(counts, [times[n] for n in counts], **style)
        if not is_single_threaded(variant) and 1 in times:
            scaling.plot(counts, [times[1] / times[n] for n in counts], **style)
    scaling.set(
        title="speedup over its own 1-worker time",
        xlabel="workers",
        ylabel="speedup",
        xticks=workers,
    )
    timing.set(title="median time per call", xlabel="workers", ylabel="seconds (log scale)", xticks=workers)
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
