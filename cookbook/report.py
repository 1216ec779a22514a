"""Show a run: the environment header, and one table per recipe."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from cookbook.backends import split
from cookbook.options import RunOptions, Sampling
from cookbook.results import Measurement, RecipeRun
from cookbook.stats import Interval

__all__ = [
    "format_interval",
    "format_seconds",
    "gil_line",
    "header_lines",
    "method_line",
    "notes",
    "overhead_line",
    "pools_line",
    "print_header",
    "print_run",
    "table_rows",
]


def format_seconds(seconds: float | None) -> str:
    """Format a duration with a unit that keeps three significant figures."""
    if seconds is None:
        return "-"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds * 1e6:.3g} µs"


def header_lines(env: dict[str, Any]) -> list[str]:
    """Describe the machine, the interpreter and the libraries in a few lines."""
    cores = env["cores"]
    gil = "GIL enabled" if env["gil_enabled"] else "GIL disabled"
    if env["free_threaded_build"]:
        gil += " (free-threaded build)"
    libraries = ", ".join(f"{k} {v}" for k, v in env["libraries"].items() if v)
    return [
        f"Python {env['python']} ({env['implementation']}), {gil}, "
        f"switch interval {env['switch_interval_s'] * 1e3:g} ms",
        f"{env['cpu']}: {cores['usable']} usable cores "
        f"({cores['logical']} logical, {cores['physical']} physical): a variant at N workers can run at "
        f"most {cores['usable']}x faster than itself at 1 worker here (efficiency at most 1); "
        "'speedup' is over serial, pure Python, and compiled code can be far faster than that",
        f"{libraries}",
    ] + (
        [f"memory bandwidth (copy, one thread): {env['memory_bandwidth_bytes_per_s'] / 1e9:.1f} GB/s"]
        if env.get("memory_bandwidth_bytes_per_s")
        else []
    )


def pools_line(env: dict[str, Any]) -> str:
    """The native thread pools and numba's threading layer: known once the recipes have run."""
    pools = ", ".join(
        f"{p['internal_api']} ({p['prefix']}) {p['num_threads']} threads" for p in env["blas_pools"]
    )
    line = f"thread pools: {pools or 'none loaded'}; numba threading layer: {env['numba_threading_layer']}"
    if env.get("gil_enabled_in_runner") and not env.get("gil_enabled"):
        line += "; the GIL was re-enabled while the recipes ran (an extension without free-threading support)"
    return line


def method_line(sampling: Sampling, env: dict[str, Any]) -> str:
    """How the figures were taken, in one line, for the header."""
    load = (
        "; other processes' CPU and steal time read from /proc/stat per sample"
        if env.get("cpu_load_known")
        else "; the load of other processes is unknown here (no /proc/stat): a busy machine is not flagged"
    )
    if sampling.max_rounds == 1:
        return (
            "timing (--quick): one sample per step after its warm-up; no intervals, a smoke test only" + load
        )
    return (
        f"timing ({sampling.mode}): steps sampled in interleaved rounds, {sampling.min_rounds}-"
        f"{sampling.max_rounds} samples each, samples of at least {format_seconds(sampling.floor_s)}, "
        f"until the median is known within ±{sampling.precision:.0%} or {sampling.budget_s:g} s are spent; "
        "[low-high] is a 95% distribution-free interval (order statistics); speedup and efficiency "
        "are medians of same-round ratios" + load
    )


def gil_line(env: dict[str, Any]) -> str:
    """What the GIL held column means, or why it is empty."""
    if not env["gil_enabled"]:
        return "GIL held: not probed, as there is no GIL in this interpreter"
    if env["cores"]["usable"] < 2:
        return "GIL held: not probed on one core (the probe's thread needs a core of its own)"
    return (
        "GIL held: the share of a 1-worker call's time that a Python thread beside it waited for the "
        "GIL (cookbook.probes): near 100% for Python code and for compiled code that keeps the GIL, "
        "near 0 where the hot loop releases it, so that threads can run it at once"
    )


def print_header(console: Console, env: dict[str, Any], options: RunOptions | None = None) -> None:
    lines = header_lines(env)
    if options is not None and not options.check_only:
        lines += [method_line(options.sampling, env), gil_line(env)]
    for line in lines:
        console.print(line, highlight=False, markup=False)


def _agreement(m: Measurement) -> str:
    if m.status == "OK":
        return "OK"
    if m.status == "MISMATCH":
        error = f"max error {m.max_error:g}; " if m.max_error is not None else ""
        return f"MISMATCH ({error}{m.detail})"
    return f"{m.status}: {m.detail}"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def format_interval(estimate: Interval | None, *, seconds: bool = False) -> str:
    """``1.95 [1.90-2.01]``; ``[-]`` where there are too few samples for an interval."""
    if estimate is None:
        return "-"
    if not seconds:
        value, low, high = (_ratio(v) for v in (estimate.value, estimate.low, estimate.high))
        return f"{value} [-]" if estimate.low is None else f"{value} [{low}-{high}]"
    text = format_seconds(estimate.value)
    if estimate.low is None or estimate.high is None:
        return f"{text} [-]"
    scale = {"s": 1.0, "ms": 1e-3, "µs": 1e-6}[text.partition(" ")[2]]
    return f"{text} [{_in_unit(estimate.low / scale)}-{_in_unit(estimate.high / scale)}]"


def _in_unit(value: float) -> str:
    """Three significant figures, never an exponent: an end past the unit's 1000 reads 1150, not 1.15e+03."""
    text = f"{value:.3g}"
    return f"{value:.0f}" if "e+" in text else text


def _trust(run: RecipeRun, m: Measurement) -> str:
    kinds = list(dict.fromkeys(flag.kind for flag in run.flags(m)))
    return ", ".join(kinds) if kinds else "ok"


def table_rows(run: RecipeRun, bandwidth: float | None = None) -> tuple[list[str], list[list[str]]]:
    """The column names and the formatted cells of one recipe's table.

    ``bandwidth`` (bytes/s) classifies timed rows as memory- or compute-bound.
    """
    timed = any(m.timed for m in run.measurements)  # not with --check-only
    columns = ["variant", "workers", "first call"]
    if timed:
        columns += ["GIL held", "samples x calls", "median [95%]", "speedup [95%]", "efficiency [95%]"]
        columns += ["Amdahl s", "GB/s", "trust"]
    columns.append("agreement")
    last_row = {m.variant: m for m in run.measurements}  # each variant's largest worker count
    rows = []
    for m in run.measurements:
        cells = [
            m.variant,
            f"{m.workers} in-process" if m.in_caller else str(m.workers),
            format_seconds(m.first_s),
        ]
        if timed:
            cells.append("-" if m.gil_held is None else f"{m.gil_held:.0%}")
            counts = f"{len(m.samples)} x {m.samples[0].calls}" if m.timed else "-"
            fraction = run.serial_fraction(m.variant) if last_row[m.variant] is m and m.workers > 1 else None
            cells += [counts, format_interval(m.median, seconds=True), format_interval(run.speedup(m))]
            cells += [format_interval(run.efficiency(m)), _ratio(fraction)]
            cells.append(_rate(run.bytes_per_second(m), run.bound(m, bandwidth)))
            cells.append(_trust(run, m) if m.timed else "-")
        rows.append([*cells, _agreement(m)])
    return columns, rows


def print_run(console: Console, run: RecipeRun, bandwidth: float | None = None) -> None:
    """Print one recipe's table."""
    table = Table(title=f"{run.recipe} (size {run.size_label} = {run.size})", title_justify="left")
    columns, rows = table_rows(run, bandwidth)
    for column in columns:
        table.add_column(column, justify="left" if column in ("variant", "agreement") else "right")
    for m, cells in zip(run.measurements, rows, strict=True):
        style = "red" if m.status != "OK" else "yellow" if run.flags(m) else None
        table.add_row(*cells, style=style)
    console.print(table)
    for line in notes(run):
        console.print(f"  {line}", highlight=False, markup=False)


def overhead_line(overhead: dict[str, Any]) -> str:
    """joblib's cost per no-op task on each backend, and dask's over loky's."""
    workers = overhead["workers"]
    if "error" in overhead:
        return f"joblib overhead per task at {workers} workers: not measured ({overhead['error']})"
    per_task = overhead["per_task_s"]
    parts = ", ".join(f"{name} {seconds * 1e3:.2f} ms" for name, seconds in per_task.items())
    line = f"joblib overhead per no-op task (batch_size=1) at {workers} workers: {parts}"
    if {"loky", "dask"} <= per_task.keys():
        line += f"; dask {per_task['dask'] / per_task['loky']:.1f}x loky"
    return line


def notes(run: RecipeRun) -> list[str]:
    """The lines under a recipe's table: flags, variants not run and why, backends, inner thread limits."""
    lines = [
        f"{m.variant} x{m.workers}: {f.kind}: {f.reason}" for m in run.measurements for f in run.flags(m)
    ]
    lines += [f"{variant}: not run: {reason}" for variant, reason in run.not_applicable.items()]
    for m in run.measurements:
        if m.cluster:
            lines.append(f"{m.variant} x{m.workers} ran on {m.cluster}")
        base = split(m.variant)[0]
        loky, dask = run.median_s(base, m.workers), run.median_s(m.variant, m.workers)
        if m.backend == "dask" and loky and dask:
            lines.append(f"{m.variant} x{m.workers}: {dask / loky:.2f}x the time of {base} on loky")
    in_caller = [f"{m.variant} x{m.workers}" for m in run.measurements if m.in_caller]
    if in_caller:
        lines.append(
            f"{', '.join(in_caller)} ran in this process: joblib runs n_jobs=1 with no pool, so the "
            "efficiency of more workers includes starting the pool and pickling the tasks"
        )
    limits: dict[tuple[int, tuple[str, ...]], list[str]] = {}
    for m in run.measurements:
        if m.inner_threads is not None:
            limits.setdefault((m.inner_threads, tuple(m.limited_pools)), []).append(
                f"{m.variant} x{m.workers}"
            )
    for (limit, pools), steps in sorted(limits.items()):
        held = ", ".join(pools) if pools else "no pool (none loaded, or none keeps a process-wide limit)"
        lines.append(
            f"BLAS limited to {limit} thread{'s' * (limit > 1)} per worker thread (cores // workers, "
            f"threadpoolctl), as a new thread saw it: {held}; in {', '.join(steps)}"
        )
    return lines


def _rate(bytes_per_second: float | None, bound: str | None) -> str:
    if not bytes_per_second:
        return "-"
    rate = bytes_per_second / 1e9
    return (f"{rate:.2f}" if rate >= 0.01 else "<0.01") + (f" ({bound})" if bound else "")
