"""Show a run: the environment header and one table per recipe; write it as JSON."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from cookbook.results import Measurement, RecipeRun

__all__ = [
    "format_seconds",
    "header_lines",
    "pools_line",
    "print_header",
    "print_run",
    "to_json",
    "write_json",
]

SCHEMA_VERSION = 1


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
        f"({cores['logical']} logical, {cores['physical']} physical); "
        f"speedup cannot exceed {cores['usable']}x here",
        f"{libraries}",
    ]


def pools_line(env: dict[str, Any]) -> str:
    """The native thread pools and numba's threading layer: known once the recipes have run."""
    pools = ", ".join(
        f"{p['internal_api']} ({p['prefix']}) {p['num_threads']} threads" for p in env["blas_pools"]
    )
    return f"thread pools: {pools or 'none loaded'}; numba threading layer: {env['numba_threading_layer']}"


def print_header(console: Console, env: dict[str, Any]) -> None:
    for line in header_lines(env):
        console.print(line, highlight=False, markup=False)


def _agreement(m: Measurement) -> str:
    if m.status == "OK":
        return "OK"
    if m.status == "MISMATCH":
        error = f"max error {m.max_error:g}; " if m.max_error is not None else ""
        return f"MISMATCH ({error}{m.detail})"
    return f"ERROR: {m.detail}"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def print_run(console: Console, run: RecipeRun) -> None:
    """Print one recipe's table."""
    table = Table(title=f"{run.recipe} (size {run.size_label} = {run.size})", title_justify="left")
    timed = any(m.timing for m in run.measurements)  # not with --check-only
    columns = ["variant", "workers", "first call"]
    columns += ["median (min-max)", "speedup", "efficiency"] if timed else []
    for column in [*columns, "agreement"]:
        table.add_column(column, justify="left" if column in ("variant", "agreement") else "right")
    for m in run.measurements:
        cells = [m.variant, str(m.workers), format_seconds(m.first_s)]
        if timed:
            spread = "-"
            if m.timing:
                low, high = format_seconds(m.timing.min_s), format_seconds(m.timing.max_s)
                spread = f"{format_seconds(m.timing.median_s)} ({low}-{high})"
            cells += [spread, _ratio(run.speedup(m)), _ratio(run.efficiency(m))]
        table.add_row(*cells, _agreement(m), style=None if m.status == "OK" else "red")
    console.print(table)
    for variant, reason in run.not_applicable.items():
        console.print(f"  {variant}: not applicable: {reason}", highlight=False, markup=False)


def to_json(env: dict[str, Any], runs: Sequence[RecipeRun], options: dict[str, Any]) -> dict[str, Any]:
    """The whole run as one JSON-ready dict."""
    return {
        "schema": SCHEMA_VERSION,
        "environment": env,
        "options": options,
        "ok": all(run.ok for run in runs),
        "recipes": [run.as_dict() for run in runs],
    }


def write_json(path: Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` to ``path`` atomically: readers see the old file or the whole new one."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    umask = os.umask(0)
    os.umask(umask)
    try:
        os.fchmod(
            handle, 0o666 & ~umask
        )  # mkstemp makes the file private (0600); give it a normal file's mode
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(payload, stream, indent=2)
            stream.write("\n")
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
