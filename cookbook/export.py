"""Write a run to files: JSON (everything), Markdown (the tables), CSV (one row a measurement).

Every file is written atomically: a reader sees the old file or the whole new one.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from cookbook import report
from cookbook.figures import Figures, Row, derive
from cookbook.results import Session
from cookbook.stats import Interval

__all__ = [
    "recipe_markdown",
    "to_csv",
    "to_json",
    "to_markdown",
    "write_bytes",
    "write_text",
]

CSV_COLUMNS = (
    "recipe",
    "size",
    "variant",
    "workers",
    "executor",
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


def to_json(session: Session) -> str:
    """The whole session: what was measured (``Session.to_dict``), each row with its derived figures.

    The derived figures are there for other tools; this cookbook reads back
    only what was measured (``cookbook.results.read``) and derives them again.
    """
    record = session.to_dict()
    for run_record, run in zip(record["recipes"], session.runs, strict=True):
        figures = derive(run, session.bandwidth)
        run_record["measurements"] = [
            m | _derived(row) for m, row in zip(run_record["measurements"], figures, strict=True)
        ]
    return json.dumps(record, indent=2) + "\n"


def _derived(row: Row) -> dict[str, Any]:
    """A row's derived figures: each estimate as value, low and high."""
    derived: dict[str, Any] = {}
    for name, estimate in (
        ("median_s", row.median),
        ("speedup", row.speedup),
        ("efficiency", row.efficiency),
    ):
        derived |= _estimate(name, estimate)
    return derived | {
        "serial_fraction": row.serial_fraction,
        "bytes_per_s": row.bytes_per_s,
        "bound": row.bound,
        "flags": [dataclasses.asdict(f) for f in row.flags],
    }


def _estimate(name: str, estimate: Interval | None) -> dict[str, float | None]:
    """``name``, ``name_low``, ``name_high`` (a unit suffix such as ``_s`` stays last)."""
    stem, unit = (name[:-2], "_s") if name.endswith("_s") else (name, "")
    if estimate is None:
        return {name: None, f"{stem}_low{unit}": None, f"{stem}_high{unit}": None}
    return {name: estimate.value, f"{stem}_low{unit}": estimate.low, f"{stem}_high{unit}": estimate.high}


def to_markdown(session: Session) -> str:
    """The header as a list, then one table per recipe, as in the terminal."""
    env, runs = session.environment, session.runs
    lines = ["# Cookbook run" + ("" if session.complete else " (interrupted: incomplete)"), ""]
    method = [report.method_line(runs[0].sampling, env)] if runs and runs[0].sampling else []
    lines += [f"- {line}" for line in [*report.header_lines(env), *method, report.pools_line(env)]]
    for run in runs:
        lines += [
            "",
            f"## {run.recipe} (size {run.size_label} = {run.size})",
            "",
            recipe_markdown(derive(run, session.bandwidth)),
        ]
    return "\n".join(lines) + "\n"


def recipe_markdown(figures: Figures) -> str:
    """One recipe's table and the notes under it."""
    columns, rows = report.table_rows(figures)
    lines = ["| " + " | ".join(columns) + " |"]
    lines.append("|" + "|".join("---" if c in ("variant", "agreement") else "---:" for c in columns) + "|")
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    lines += [f"\n{line}" for line in report.notes(figures)]
    return "\n".join(lines)


def to_csv(session: Session) -> str:
    """One row per recipe, variant and worker count; numbers unformatted, seconds and bytes/s."""
    stream = io.StringIO()
    writer = csv.DictWriter(stream, CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for run in session.runs:
        for row in derive(run, session.bandwidth):
            m = row.measurement
            derived = _derived(row) | {
                "recipe": run.recipe,
                "size": run.size,
                "samples": len(m.samples),
                "calls_per_sample": m.samples[0].calls if m.samples else None,
                "flags": "; ".join(f"{f.kind}: {f.reason}" for f in row.flags),
            }
            writer.writerow(m.to_dict() | derived)
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
