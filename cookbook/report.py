"""Show a run: the environment header, and one table per recipe."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from cookbook.figures import Figures, Row
from cookbook.options import RunOptions, Sampling
from cookbook.results import ExecutorCosts, Measurement
from cookbook.stats import Interval

__all__ = [
    "costs_line",
    "format_interval",
    "format_seconds",
    "gil_line",
    "gil_reenabled",
    "header_lines",
    "method_line",
    "notes",
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
        gil += f" ({_gil_reenabled(env) or 'free-threaded build'})"
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
    if env.get("free_threaded_build") and env.get("gil_enabled_in_runner"):
        line += f"; {_gil_reenabled(env) or 'the GIL was on while the recipes ran'}"
    return line


def gil_reenabled(module: str) -> str:
    """What an import that turned the GIL back on means, in the words of every place that says it."""
    return f"importing {module} re-enabled the GIL (it does not declare free-threading support)"


def _gil_reenabled(env: dict[str, Any]) -> str | None:
    """On a free-threaded build, the import that turned the GIL back on, if one did."""
    module = env.get("gil_reenabled_by")
    return f"free-threaded build, but {gil_reenabled(module)}: threads ran with a GIL" if module else None


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


def _trust(row: Row) -> str:
    kinds = list(dict.fromkeys(flag.kind for flag in row.flags))
    return ", ".join(kinds) if kinds else "ok"


def table_rows(figures: Figures) -> tuple[list[str], list[list[str]]]:
    """The column names and the formatted cells of one recipe's table."""
    timed = any(row.median for row in figures)  # not with --check-only
    columns = ["variant", "workers", "first call"]
    if timed:
        columns += ["GIL held", "samples x calls", "median [95%]", "speedup [95%]", "efficiency [95%]"]
        columns += ["Amdahl s", "GB/s", "trust"]
    columns.append("agreement")
    rows = []
    for row in figures:
        m = row.measurement
        cells = [
            m.variant,
            f"{m.workers} in-process" if m.in_caller else str(m.workers),
            format_seconds(m.first_s),
        ]
        if timed:
            cells.append("-" if m.gil_held is None else f"{m.gil_held:.0%}")
            counts = f"{len(m.samples)} x {m.samples[0].calls}" if m.timed else "-"
            cells += [counts, format_interval(row.median, seconds=True), format_interval(row.speedup)]
            cells += [format_interval(row.efficiency), _ratio(row.serial_fraction)]
            cells.append(_rate(row.bytes_per_s, row.bound))
            cells.append(_trust(row) if m.timed else "-")
        rows.append([*cells, _agreement(m)])
    return columns, rows


def print_run(console: Console, figures: Figures) -> None:
    """Print one recipe's table."""
    run = figures.run
    table = Table(title=f"{run.recipe} (size {run.size_label} = {run.size})", title_justify="left")
    columns, rows = table_rows(figures)
    for column in columns:
        table.add_column(column, justify="left" if column in ("variant", "agreement") else "right")
    for row, cells in zip(figures, rows, strict=True):
        style = "red" if row.measurement.status != "OK" else "yellow" if row.flags else None
        table.add_row(*cells, style=style)
    console.print(table)
    for line in notes(figures):
        console.print(f"  {line}", highlight=False, markup=False)


def costs_line(costs: ExecutorCosts) -> str:
    """Each executor's start-up, cost per task and break-even, and dask's cost per task over loky's."""
    if costs.error:
        return f"executor costs at {costs.workers} workers: not measured ({costs.error})"
    parts = [
        f"{executor} {format_seconds(costs.startup_s.get(executor))} / {format_seconds(per_task)}"
        f" / {format_seconds(costs.break_even_s(executor))}"
        for executor, per_task in costs.per_task_s.items()
    ]
    line = (
        f"executor costs at {costs.workers} workers (a new pool's start-up / each no-op task / "
        f"the work a task needs to pay on a kept pool): {'; '.join(parts)}"
    )
    loky, dask = costs.per_task_s.get("processes"), costs.per_task_s.get("processes@dask")
    if loky and dask:
        line += f"; dask {dask / loky:.1f}x loky per task"
    return line


def notes(figures: Figures) -> list[str]:
    """The lines under a recipe's table: flags, precision, variants not run and why, backends, limits."""
    run = figures.run
    lines = [
        f"{row.measurement.variant} x{row.measurement.workers}: {f.kind}: {f.reason}"
        for row in figures
        for f in row.flags
    ]
    lines += _precision_lines(figures) + _ranked_lines(figures)
    lines += [f"{variant}: not run: {reason}" for variant, reason in run.not_applicable.items()]
    module = (run.thread_pools or {}).get("gil_reenabled_by")
    if module:  # only a free-threaded build names one
        lines.append(
            f"{gil_reenabled(module)}, in the process that ran these steps: their threads ran with a GIL, "
            "not free-threaded"
        )
    for row in figures:
        m = row.measurement
        if m.cluster:
            lines.append(f"{m.variant} x{m.workers} ran on {m.cluster}")
        loky = figures.timed(m.function, m.workers)
        if m.backend == "dask" and loky and loky.median and row.median:
            ratio = row.median.value / loky.median.value
            lines.append(f"{m.variant} x{m.workers}: {ratio:.2f}x the time of {m.function} on loky")
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


def _precision_lines(figures: Figures) -> list[str]:
    """Which steps stopped on their budget before the precision asked for: information, not a warning."""
    sampling = figures.run.sampling
    short = [row for row in figures if row.measurement.stopped == "budget" and row.median]
    if sampling is None or not short:
        return []
    widths = [w for row in short if row.median and (w := row.median.relative_half_width) is not None]
    widest = f" (the widest ±{max(widths):.0%})" if widths else ""
    steps = ", ".join(f"{row.measurement.variant} x{row.measurement.workers}" for row in short)
    return [
        f"precision: {steps} used their {sampling.budget_s:g} s before their median was known within "
        f"±{sampling.precision:.0%}{widest}; their intervals say how far to trust them"
    ]


def _ranked_lines(figures: Figures) -> list[str]:
    """Which steps stopped once their place against the fastest was settled (``Sampling.ranked``)."""
    ranked = [row for row in figures if row.measurement.stopped == "ranked"]
    if not ranked:
        return []
    steps = ", ".join(f"{row.measurement.variant} x{row.measurement.workers}" for row in ranked)
    return [
        f"ranked: {steps} stopped sampling once the 95% intervals showed which step is the fastest; "
        "their intervals are wider than --rigorous gives"
    ]


def _rate(bytes_per_second: float | None, bound: str | None) -> str:
    if not bytes_per_second:
        return "-"
    rate = bytes_per_second / 1e9
    return (f"{rate:.2f}" if rate >= 0.01 else "<0.01") + (f" ({bound})" if bound else "")
