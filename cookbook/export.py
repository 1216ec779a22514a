"""Write a run to files: JSON (everything), Markdown (the tables), CSV (one row a measurement).

Every file is written atomically: a reader sees the old file or the whole new one.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cookbook import report
from cookbook.results import RecipeRun

__all__ = [
    "SCHEMA_VERSION",
    "bandwidth",
    "recipe_markdown",
    "to_csv",
    "to_json",
    "to_markdown",
    "write_bytes",
    "write_text",
]

SCHEMA_VERSION = 2  # 2: calibrated samples in rounds, intervals and flags (1: repeats_s)
CSV_COLUMNS = (
    "recipe",
    "size",
    "variant",
    "workers",
    "status",
    "first_s",
    "samples",
    "calls_per_sample",
    "median_s",
    "median_low_s",
    "median_high_s",
    "speedup",
    "speedup_low",
    "speedup_high",
    "efficiency",
    "efficiency_low",
    "efficiency_high",
    "serial_fraction",
    "bytes_per_s",
    "bound",
    "max_error",
    "inner_threads",
    "gil_held",
    "in_caller",
    "stopped",
    "flags",
    "detail",
)


def bandwidth(env: dict[str, Any]) -> float | None:
    """The copy bandwidth the run measured (bytes/s), or None (--check-only)."""
    value = env.get("memory_bandwidth_bytes_per_s")
    return float(value) if value else None


def to_json(
    env: dict[str, Any], runs: Sequence[RecipeRun], options: dict[str, Any], *, complete: bool = True
) -> str:
    """The whole run: environment, options and every measurement with its derived figures.

    ``complete`` is False for a run stopped early (Ctrl-C, SIGTERM): what it measured, no more.
    """
    payload = {
        "schema": SCHEMA_VERSION,
        "complete": complete,
        "environment": env,
        "options": options,
        "ok": all(run.ok for run in runs),
        "recipes": [run.as_dict(bandwidth(env)) for run in runs],
    }
    return json.dumps(payload, indent=2) + "\n"


def to_markdown(env: dict[str, Any], runs: Sequence[RecipeRun], *, complete: bool = True) -> str:
    """The header as a list, then one table per recipe, as in the terminal."""
    lines = ["# Cookbook run" + ("" if complete else " (interrupted: incomplete)"), ""]
    method = [report.method_line(runs[0].sampling, env)] if runs and runs[0].sampling else []
    lines += [f"- {line}" for line in [*report.header_lines(env), *method, report.pools_line(env)]]
    for run in runs:
        lines += [
            "",
            f"## {run.recipe} (size {run.size_label} = {run.size})",
            "",
            recipe_markdown(run, bandwidth(env)),
        ]
    return "\n".join(lines) + "\n"


def recipe_markdown(run: RecipeRun, bandwidth: float | None) -> str:
    """One recipe's table and the notes under it."""
    columns, rows = report.table_rows(run, bandwidth)
    lines = ["| " + " | ".join(columns) + " |"]
    lines.append("|" + "|".join("---" if c in ("variant", "agreement") else "---:" for c in columns) + "|")
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    lines += [f"\n{line}" for line in report.notes(run)]
    return "\n".join(lines)


def to_csv(env: dict[str, Any], runs: Sequence[RecipeRun]) -> str:
    """One row per recipe, variant and worker count; numbers unformatted, seconds and bytes/s."""
    stream = io.StringIO()
    writer = csv.DictWriter(stream, CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for run in runs:
        record = run.as_dict(bandwidth(env))
        for row in record["measurements"]:
            serial_fraction = record["serial_fraction"].get(row["variant"]) if row["workers"] > 1 else None
            samples = row["samples"]
            derived = {
                "samples": len(samples),
                "calls_per_sample": samples[0]["calls"] if samples else None,
                "flags": "; ".join(f"{f['kind']}: {f['reason']}" for f in row["flags"]),
            }
            writer.writerow(
                {**row, **derived, "recipe": run.recipe, "size": run.size, "serial_fraction": serial_fraction}
            )
    return stream.getvalue()


def write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    write_bytes(path, text.encode("utf-8"))


def write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: a temporary file in the same folder, then a rename."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    umask = os.umask(0)
    os.umask(umask)
    try:
        os.fchmod(handle, 0o666 & ~umask)  # mkstemp's file is private (0600); give it a normal mode
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
