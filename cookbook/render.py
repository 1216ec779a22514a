"""Regenerate the figures of the README and ``docs/`` from committed results files.

Every published figure sits in a block between two marker comments. The
opening one says what to render, from which results file (a path from the
repository's root); the text between is generated and is never edited by
hand::

    <!-- render: run results/2026-12-02-epyc2-cpython3.11.json -->
    ...
    <!-- /render -->

Blocks may be inline, inside a sentence: ``<!-- render: value FILE countdown
python_threads 2 efficiency -->0.50 [0.49-0.51]<!-- /render -->``. The kinds:

- ``run FILE``: the machine, interpreter, libraries, date and command of a run;
- ``summary FILE``: one row per recipe, its fastest variant at the most workers;
- ``table FILE RECIPE``: the recipe's whole table with its notes, as the report prints it;
- ``value FILE RECIPE VARIANT WORKERS FIELD``: one figure (``median``,
  ``speedup``, ``efficiency`` with their 95% intervals, ``gil_held`` or ``gb_per_s``);
- ``spread FILE VARIANT WORKERS FIELD [-RECIPE ...]``: that figure's lowest and
  highest over the recipes (less those named);
- ``plot FILE RECIPE``: the recipe's plot, written next to the document under ``img/``.

``python -m cookbook.render`` rewrites every block of README.md and
``docs/**/*.md``; ``--check`` writes nothing and exits 1 naming each block
whose text differs from what its results file renders (plots are drawn only
when writing).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from cookbook import export, report
from cookbook.recipe import is_single_threaded
from cookbook.results import Measurement, RecipeRun
from cookbook.stats import Interval

__all__ = ["RenderError", "check", "documents", "main", "render_text"]

PROG = "python -m cookbook.render"
BLOCK = re.compile(
    r"(?P<open><!-- render: (?P<directive>[^>]*?)\s*-->)(?P<body>.*?)<!-- /render -->", re.DOTALL
)
FIELDS = ("median", "speedup", "efficiency", "gil_held", "gb_per_s")


class RenderError(Exception):
    """A block cannot be rendered: an unknown kind, a missing results file, recipe or row."""


@dataclass(frozen=True)
class Results:
    """One results file, read back: its environment, options and recipe runs."""

    path: Path
    environment: dict[str, Any]
    options: dict[str, Any]
    runs: dict[str, RecipeRun]

    def run(self, recipe: str) -> RecipeRun:
        if recipe not in self.runs:
            raise RenderError(f"{self.path}: no recipe {recipe!r} (it has {', '.join(self.runs)})")
        return self.runs[recipe]


@cache
def _load(path: Path, shown: Path) -> Results:
    """The results file at ``path``, named ``shown`` (its path from the repository's root) in messages."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise RenderError(f"{shown}: cannot read it ({error.strerror})") from None
    except json.JSONDecodeError as error:
        raise RenderError(f"{shown}: not JSON ({error.msg}, line {error.lineno})") from None
    if record.get("schema") != export.SCHEMA_VERSION or not record.get("complete"):
        raise RenderError(f"{shown}: not a complete results file of schema {export.SCHEMA_VERSION}")
    runs = {r["recipe"]: RecipeRun.from_dict(r) for r in record["recipes"]}
    return Results(shown, record["environment"], record["options"], runs)


def _run_line(results: Results) -> str:
    env = results.environment
    libraries = ", ".join(f"{name} {version}" for name, version in env["libraries"].items() if version)
    build = " free-threaded" if env["free_threaded_build"] else ""
    gil = "" if env["gil_enabled"] else ", GIL disabled"
    when = env.get("date_utc", "date not recorded")[:10]
    command = env.get("command") or "command not recorded"
    return (
        f"Measured on {env['cpu']} ({env['cores']['usable']} usable cores), "
        f"{env['implementation']} {env['python']}{build}{gil} ({libraries}), {when}, "
        f"with `{command}` ([{results.path.name}]({{root}}{results.path.as_posix()}))."
    )


def _fastest(run: RecipeRun) -> Measurement | None:
    """The timed parallel step with the shortest median at the run's most workers."""
    most = max((m.workers for m in run.measurements), default=1)
    timed = [
        m
        for m in run.measurements
        if m.timed and m.workers == most and not is_single_threaded(m.variant) and m.median
    ]
    return min(timed, key=lambda m: m.median.value if m.median else 0.0, default=None)


def _summary(results: Results) -> str:
    lines = [
        "| recipe | serial | fastest at the most workers | its time | speedup over serial [95%] "
        "| efficiency [95%] | python_threads efficiency [95%] |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    for run in results.runs.values():
        serial, fastest = run.find("serial", 1), _fastest(run)
        threads = run.find("python_threads", fastest.workers) if fastest else None
        cells = [
            run.recipe,
            report.format_seconds(serial.median.value if serial and serial.median else None),
            f"{fastest.variant} x{fastest.workers}" if fastest else "-",
            report.format_interval(fastest.median, seconds=True) if fastest else "-",
            report.format_interval(run.speedup(fastest)) if fastest else "-",
            report.format_interval(run.efficiency(fastest)) if fastest else "-",
            report.format_interval(run.efficiency(threads)) if threads else "-",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _table(results: Results, recipe: str) -> str:
    return export.recipe_markdown(results.run(recipe), export.bandwidth(results.environment))


def _step(results: Results, run: RecipeRun, variant: str, workers: str, field: str) -> Measurement:
    m = run.find(variant, int(workers)) if workers.isdigit() else None
    if m is None or not m.timed:
        raise RenderError(f"{results.path}: {run.recipe} has no timed {variant} at {workers} workers")
    if field not in FIELDS:
        raise RenderError(f"unknown field {field!r} (valid: {', '.join(FIELDS)})")
    return m


def _estimates(run: RecipeRun, m: Measurement) -> dict[str, Interval | None]:
    return {"median": m.median, "speedup": run.speedup(m), "efficiency": run.efficiency(m)}


def _figure(run: RecipeRun, m: Measurement, field: str) -> float | None:
    """One step's figure: an estimate's value, the GIL's share, or GB/s."""
    if field == "gil_held":
        return m.gil_held
    if field == "gb_per_s":
        rate = run.bytes_per_second(m)
        return None if rate is None else rate / 1e9
    estimate = _estimates(run, m)[field]
    return None if estimate is None else estimate.value


def _format(field: str, value: float | None) -> str:
    if value is None:
        return "-"
    if field == "gil_held":
        return f"{value:.0%}"
    return report.format_seconds(value) if field == "median" else f"{value:.2f}"


def _value(results: Results, recipe: str, variant: str, workers: str, field: str) -> str:
    """The figure, with its 95% interval where it has one."""
    run = results.run(recipe)
    m = _step(results, run, variant, workers, field)
    estimates = _estimates(run, m)
    if field in estimates:
        return report.format_interval(estimates[field], seconds=field == "median")
    return _format(field, _figure(run, m, field))


def _spread(results: Results, variant: str, workers: str, field: str, *excluded: str) -> str:
    """The lowest and highest of one figure over every recipe that has the step, less ``excluded``."""
    unknown = [name for name in excluded if name.lstrip("-") not in results.runs]
    if unknown or any(not name.startswith("-") for name in excluded):
        raise RenderError(f"spread: after the field come recipes to leave out as -NAME: {' '.join(excluded)}")
    left_out = {name[1:] for name in excluded}
    values = [
        _figure(run, _step(results, run, variant, workers, field), field)
        for run in results.runs.values()
        if run.recipe not in left_out and run.find(variant, int(workers) if workers.isdigit() else 0)
    ]
    known = [v for v in values if v is not None]
    if not known:
        raise RenderError(f"{results.path}: no recipe has {field} for {variant} at {workers} workers")
    return f"{_format(field, min(known))}-{_format(field, max(known))}"


def _plot(results: Results, recipe: str, *, document: Path, draw: bool) -> str:
    folder = document.parent / "img"
    if draw:
        from cookbook import plot

        plot.require()
        folder.mkdir(exist_ok=True)
        plot.plot_run(results.run(recipe), folder)
    else:
        results.run(recipe)
    return f"![{recipe}: speedup and time per call against workers](img/{recipe}.png)"


KINDS: dict[str, tuple[int, bool, Callable[..., str]]] = {  # arguments after FILE, more allowed, renderer
    "run": (0, False, _run_line),
    "summary": (0, False, _summary),
    "table": (1, False, _table),
    "value": (4, False, _value),
    "spread": (3, True, _spread),
    "plot": (1, False, _plot),
}


def _render_block(directive: str, *, root: Path, document: Path, draw: bool) -> str:
    words = shlex.split(directive)
    if not words or words[0] not in KINDS:
        raise RenderError(f"unknown block {directive!r} (kinds: {', '.join(KINDS)})")
    kind, args = words[0], words[1:]
    count, more, renderer = KINDS[kind]
    if len(args) != count + 1 and not (more and len(args) > count + 1):
        at_least = " at least" if more else ""
        raise RenderError(f"{kind} takes a results file and{at_least} {count} more arguments: {directive!r}")
    results = _load((root / args[0]).resolve(), Path(args[0]))
    extra = {"document": document, "draw": draw} if kind == "plot" else {}
    text = renderer(results, *args[1:], **extra)
    to_root = os.path.relpath(root, document.parent)
    text = text.replace("{root}", "" if to_root == "." else f"{to_root}/")
    inline = "\n" not in text and kind in ("value", "spread", "run")
    return text if inline else f"\n{text}\n"


def render_text(text: str, *, root: Path, document: Path, draw: bool = False) -> str:
    """``text`` with every block's body regenerated."""

    def fill(match: re.Match[str]) -> str:
        body = _render_block(match["directive"], root=root, document=document, draw=draw)
        return f"{match['open']}{body}<!-- /render -->"

    try:
        return BLOCK.sub(fill, text)
    except RenderError as error:
        raise RenderError(f"{document}: {error}") from None


def documents(root: Path) -> list[Path]:
    """The files whose blocks are rendered: README.md and every Markdown file under docs/."""
    return [p for p in [root / "README.md", *sorted((root / "docs").rglob("*.md"))] if p.exists()]


def check(root: Path, paths: Sequence[Path] | None = None) -> list[str]:
    """One line per block whose committed text differs from what its results file renders."""
    stale = []
    for path in paths or documents(root):
        text = path.read_text(encoding="utf-8")
        rendered = render_text(text, root=root, document=path)
        old, new = BLOCK.finditer(text), BLOCK.finditer(rendered)
        for before, after in zip(old, new, strict=True):
            if before["body"] != after["body"]:
                line = text.count("\n", 0, before.start()) + 1
                stale.append(f"{path.relative_to(root)}:{line}: {' '.join(before['directive'].split())}")
    return stale


def _write(root: Path, paths: Sequence[Path]) -> list[Path]:
    """Render every document first, then write those that changed: a bad block leaves all as they were."""
    texts = {path: path.read_text(encoding="utf-8") for path in paths}
    rendered = {path: render_text(text, root=root, document=path, draw=True) for path, text in texts.items()}
    changed = [path for path in paths if rendered[path] != texts[path]]
    for path in changed:
        export.write_text(path, rendered[path])
    return changed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path, help="documents to render (default: README.md, docs/)")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the repository's root (default: .)")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a block is stale")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    paths = [p.resolve() for p in args.files] or documents(root)
    try:
        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            raise RenderError(f"no such file: {', '.join(missing)}")
        if args.check:
            stale = check(root, paths)
            for line in stale:
                print(f"stale: {line}", file=sys.stderr)
            if stale:
                print(f"{PROG}: {len(stale)} stale blocks; run {PROG} to regenerate them", file=sys.stderr)
            return 1 if stale else 0
        for path in _write(root, paths):
            print(f"rendered {path.relative_to(root)}")
        return 0
    except RenderError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
