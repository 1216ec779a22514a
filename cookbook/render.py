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
- ``bandwidth FILE``: the machine's copy bandwidth that the run measured, in GB/s;
- ``wall FILE``: how long the run took, from its bandwidth probe to its last recipe;
- ``overhead FILE BACKEND``: the process variants' cost per no-op task on that backend;
- ``executors FILE FREE_THREADED_FILE``: the decision guide's entry for pure Python: threads,
  processes and subinterpreters on a GIL build (FILE), threads on a free-threaded one, each with
  its cost on one worker, start-up, cost per task, efficiency and speedup, over the recipes that
  have every one of them;
- ``peer FILE FREE_THREADED_FILE PEER_FILE``: a peer's published timings
  (``results/peers/*.json``) as speedups, beside the same variants' in a GIL build's run (FILE) and
  a free-threaded one's;
- ``summary FILE``: one row per recipe, its fastest variant at the most workers;
- ``table FILE RECIPE``: the recipe's whole table with its notes, as the report prints it;
- ``value FILE RECIPE VARIANT WORKERS FIELD``: one figure (``median``,
  ``speedup``, ``efficiency`` with their 95% intervals, ``gil_held``, ``gb_per_s``, or
  ``start_s``: the first call's time beyond the median, what starting a pool or compiling cost);
- ``spread FILE VARIANT WORKERS FIELD [-RECIPE ...]``: that figure's lowest and
  highest over the recipes (less those named);
- ``compare FILE OTHER [OTHER ...] VARIANT WORKERS FIELD``: that figure in each run, a row per
  recipe and a column per run; for ``median`` of two runs, also their ratio (second over first),
  with the ratio's median and range over the recipes under the table;
- ``compare_recipe FILE OTHER [OTHER ...] RECIPE WORKERS FIELD``: the same, a row per variant
  of one recipe;
- ``repeat FILE OTHER``: how far two runs of one command agree: the rows ``compare`` calls
  changed, the compute-bound efficiencies at the most workers within 0.05 and 0.1 of each other,
  their intervals' widths, and the rows each run flagged;
- ``flags FILE [OTHER ...]``: how many timed rows each run flagged, in all and by flag;
- ``advice FILE``: the recommendation and evidence of a ``python -m cookbook.advise --json`` file;
- ``plot FILE RECIPE``: the recipe's plot, written next to the document under ``img/``.

``python -m cookbook.render`` rewrites every block of README.md and
``docs/**/*.md``; ``--check`` writes nothing and exits 1 naming each block
whose text differs from what its results file renders (plots are drawn only
when writing).
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import shlex
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from cookbook import compare, export, report, results, trust
from cookbook.advice import Advice
from cookbook.figures import Figures, Row, derive
from cookbook.results import Session, step_name
from cookbook.stats import Interval

__all__ = ["RenderError", "check", "documents", "main", "render_text"]

PROG = "python -m cookbook.render"
BLOCK = re.compile(
    r"(?P<open><!-- render: (?P<directive>[^>]*?)\s*-->)(?P<body>.*?)<!-- /render -->", re.DOTALL
)
FIELDS = ("median", "speedup", "efficiency", "gil_held", "gb_per_s", "start_s")


class RenderError(Exception):
    """A block cannot be rendered: an unknown kind, a missing results file, recipe or row."""


@dataclass(frozen=True)
class Results:
    """One results file, read back into the results model, each recipe run's figures derived once."""

    root: Path  # the repository's root
    path: Path  # from the root: how messages and links name the file
    session: Session
    figures: dict[str, Figures]  # by recipe

    @property
    def environment(self) -> dict[str, Any]:
        return self.session.environment

    def run(self, recipe: str) -> Figures:
        if recipe not in self.figures:
            raise RenderError(f"{self.path}: no recipe {recipe!r} (it has {', '.join(self.figures)})")
        return self.figures[recipe]

    def other(self, name: str) -> Results:
        """Another results file, named from the same root."""
        return _load(self.root, Path(name))


@cache
def _load(root: Path, shown: Path) -> Results:
    """The results file ``shown`` (a path from the repository's root ``root``), read once."""
    try:
        session = results.read((root / shown).resolve(), shown=str(shown))
    except results.ResultsError as error:
        raise RenderError(str(error)) from None
    if not session.complete:
        raise RenderError(f"{shown}: not a complete results file: its run was interrupted; run it again")
    figures = {run.recipe: derive(run, session.bandwidth) for run in session.runs}
    return Results(root, shown, session, figures)


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


def _fastest(figures: Figures) -> Row | None:
    """The timed parallel row with the shortest median at the run's most workers."""
    most = figures.most_workers
    timed = [r for r in figures if r.median and r.measurement.workers == most and r.measurement.parallel]
    return min(timed, key=lambda r: r.median.value if r.median else 0.0, default=None)


def _bandwidth(results: Results) -> str:
    rate = results.session.bandwidth
    if rate is None:
        raise RenderError(f"{results.path}: the run measured no copy bandwidth (--check-only?)")
    return f"{rate / 1e9:.1f} GB/s"


def _wall(results: Results) -> str:
    seconds = results.environment.get("wall_s")
    if seconds is None:
        raise RenderError(f"{results.path}: the run recorded no wall time (made before it was recorded)")
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes else f"{seconds:.1f} s"


def _overhead(results: Results, backend: str) -> str:
    costs = results.session.executor_costs
    per_task = costs.per_task_s.get(step_name("processes", backend)) if costs else None
    if per_task is None:
        raise RenderError(f"{results.path}: no cost per task measured for processes on {backend!r}")
    return report.format_seconds(per_task)


def _summary(results: Results) -> str:
    lines = [
        "| recipe | serial | fastest at the most workers | its time | speedup over serial [95%] "
        "| efficiency [95%] | python_threads efficiency [95%] |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    for figures in results.figures.values():
        serial, fastest = figures.timed("serial", 1), _fastest(figures)
        threads = figures.row("python_threads", fastest.measurement.workers) if fastest else None
        cells = [
            figures.run.recipe,
            report.format_seconds(serial.median.value if serial and serial.median else None),
            f"{fastest.measurement.variant} x{fastest.measurement.workers}" if fastest else "-",
            report.format_interval(fastest.median, seconds=True) if fastest else "-",
            report.format_interval(fastest.speedup) if fastest else "-",
            report.format_interval(fastest.efficiency) if fastest else "-",
            report.format_interval(threads.efficiency) if threads else "-",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _table(results: Results, recipe: str) -> str:
    return export.recipe_markdown(results.run(recipe))


def _step(results: Results, figures: Figures, variant: str, workers: str, field: str) -> Row:
    row = figures.timed(variant, int(workers)) if workers.isdigit() else None
    if row is None:
        raise RenderError(f"{results.path}: {figures.run.recipe} has no timed {variant} at {workers} workers")
    if field not in FIELDS:
        raise RenderError(f"unknown field {field!r} (valid: {', '.join(FIELDS)})")
    return row


def _estimates(row: Row) -> dict[str, Interval | None]:
    return {"median": row.median, "speedup": row.speedup, "efficiency": row.efficiency}


def _figure(row: Row, field: str) -> float | None:
    """One step's figure: an estimate's value, the GIL's share, GB/s, or the first call's start cost."""
    if field == "gil_held":
        return row.measurement.gil_held
    if field == "gb_per_s":
        return None if row.bytes_per_s is None else row.bytes_per_s / 1e9
    if field == "start_s":
        return row.start_s
    estimate = _estimates(row)[field]
    return None if estimate is None else estimate.value


def _format(field: str, value: float | None) -> str:
    if value is None:
        return "-"
    if field == "gil_held":
        return f"{value:.0%}"
    return report.format_seconds(value) if field in ("median", "start_s") else f"{value:.2f}"


def _value(results: Results, recipe: str, variant: str, workers: str, field: str) -> str:
    """The figure, with its 95% interval where it has one."""
    figures = results.run(recipe)
    return _formatted(_step(results, figures, variant, workers, field), field)


def _formatted(row: Row, field: str) -> str:
    """One step's figure as published: an estimate with its interval, or a plain figure."""
    estimates = _estimates(row)
    if field in estimates:
        return report.format_interval(estimates[field], seconds=field == "median")
    return _format(field, _figure(row, field))


def _spread(results: Results, variant: str, workers: str, field: str, *excluded: str) -> str:
    """The lowest and highest of one figure over every recipe that has the step, less ``excluded``."""
    unknown = [name for name in excluded if name.lstrip("-") not in results.figures]
    if unknown or any(not name.startswith("-") for name in excluded):
        raise RenderError(f"spread: after the field come recipes to leave out as -NAME: {' '.join(excluded)}")
    left_out = {name[1:] for name in excluded}
    values = [
        _figure(_step(results, figures, variant, workers, field), field)
        for figures in results.figures.values()
        if figures.run.recipe not in left_out
        and figures.row(variant, int(workers) if workers.isdigit() else 0)
    ]
    known = [v for v in values if v is not None]
    if not known:
        raise RenderError(f"{results.path}: no recipe has {field} for {variant} at {workers} workers")
    return f"{_format(field, min(known))}-{_format(field, max(known))}"


def _label(results: Results) -> str:
    """A run's column heading: its interpreter, marked when free-threaded."""
    env = results.environment
    return f"{env['implementation']} {env['python']}{'t' if env['free_threaded_build'] else ''}"


def _cell(row: Row | None, field: str) -> str:
    return "-" if row is None else _formatted(row, field)


def _ratio(a: Interval | None, b: Interval | None) -> Interval | None:
    """``b / a`` with the widest interval the two medians' intervals allow."""
    if a is None or b is None or a.value <= 0:
        return None
    value = b.value / a.value
    if a.low is None or a.high is None or b.low is None or b.high is None or a.low <= 0:
        return Interval(value, None, None)
    return Interval(value, b.low / a.high, b.high / a.low)


def _runs_and_step(results: Results, words: Sequence[str], kind: str) -> tuple[list[Results], str, str, str]:
    """The runs named first (``results`` and the other files), then the three words after them."""
    if len(words) < 4 or not all(w.endswith(".json") for w in words[:-3]):
        raise RenderError(f"{kind} takes two or more results files, then {KIND_USAGE[kind]}")
    *others, what, workers, field = words
    if field not in FIELDS:
        raise RenderError(f"unknown field {field!r} (valid: {', '.join(FIELDS)})")
    if not workers.isdigit():
        raise RenderError(f"{kind}: workers must be a number, not {workers!r}")
    return [results, *(results.other(name) for name in others)], what, workers, field


def _side_by_side(
    runs: list[Results], rows: dict[str, tuple[str, str]], workers: str, field: str, title: str
) -> str:
    """A row per (recipe, variant), a column per run; for medians, each run over the one before it."""
    pairs = list(itertools.pairwise(_label(r) for r in runs)) if field == "median" else []
    row_heading = "recipe" if title.startswith("`") else "variant"
    interval = " [95%]" if field in ("median", "speedup", "efficiency") else ""
    heading = [_label(r) for r in runs] + [f"{b} / {a}" for a, b in pairs]
    lines = [
        f"{title} at {workers} worker{'' if workers == '1' else 's'}, {field}{interval}:",
        "",
        f"| {row_heading} | " + " | ".join(heading) + " |",
        "|---|" + "---:|" * len(heading),
    ]
    ratios: list[list[float]] = [[] for _ in pairs]
    for label, (recipe, variant) in rows.items():
        found = [r.figures.get(recipe) for r in runs]
        steps = [figures.timed(variant, int(workers)) if figures else None for figures in found]
        cells = [_cell(row, field) for row in steps]
        medians = [row.median if row else None for row in steps]
        for column, (a, b) in enumerate(itertools.pairwise(medians) if pairs else []):
            estimate = _ratio(a, b)
            cells.append(report.format_interval(estimate).replace(" ", "x ", 1) if estimate else "-")
            ratios[column] += [estimate.value] if estimate else []
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    if pairs:
        lines.append("")
        for (before, after), values in zip(pairs, ratios, strict=True):
            if values:
                rows_word = "rows" if len(values) > 1 else "row"
                middle = statistics.median(values)
                lines.append(
                    f"{after} / {before} over {len(values)} {rows_word}: median {middle:.2f}x, "
                    f"range {min(values):.2f}x-{max(values):.2f}x."
                )
        lines.append("A ratio's brackets are the widest that the two medians' 95% intervals allow.")
    return "\n".join(lines)


def _compare(results: Results, *words: str) -> str:
    """One step's figure across several runs, a row per recipe of any of them."""
    runs, variant, workers, field = _runs_and_step(results, words, "compare")
    recipes = list(dict.fromkeys(name for r in runs for name in r.figures))
    rows = {name: (name, variant) for name in recipes}
    return _side_by_side(runs, rows, workers, field, f"`{variant}`")


def _compare_recipe(results: Results, *words: str) -> str:
    """One recipe's figure across several runs, a row per variant that any of them timed."""
    runs, recipe, workers, field = _runs_and_step(results, words, "compare_recipe")
    found = [r.figures[recipe] for r in runs if recipe in r.figures]
    if not found:
        raise RenderError(f"compare_recipe: no run has recipe {recipe!r}")
    variants = dict.fromkeys(
        row.measurement.variant
        for figures in found
        for row in figures
        if row.measurement.workers == int(workers) and row.median
    )
    return _side_by_side(runs, {v: (recipe, v) for v in variants}, workers, field, recipe)


KIND_USAGE = {"compare": "VARIANT WORKERS FIELD", "compare_recipe": "RECIPE WORKERS FIELD"}


def _efficiencies(results: Results) -> dict[tuple[str, str], Interval]:
    """The compute-bound parallel steps' efficiencies at each recipe's most workers."""
    found = {}
    for figures in results.figures.values():
        most = figures.most_workers
        for row in figures:
            m = row.measurement
            parallel = m.parallel and m.workers == most > 1 and row.bound != "memory"
            if parallel and row.efficiency is not None:
                found[(figures.run.recipe, m.variant)] = row.efficiency
    return found


def _flagged(results: Results) -> tuple[int, int, dict[trust.FlagKind, int]]:
    """Timed rows, rows with any flag, and rows with each kind of flag."""
    rows = [row for figures in results.figures.values() for row in figures if row.median]
    kinds = {kind: sum(any(f.kind == kind for f in row.flags) for row in rows) for kind in trust.KINDS}
    return len(rows), sum(bool(row.flags) for row in rows), kinds


def _flags(results: Results, *others: str) -> str:
    """How often each flag fired: a column per run."""
    runs = [results, *(results.other(name) for name in others)]
    counts = [_flagged(r) for r in runs]
    lines = [
        "| | " + " | ".join(f"[{r.path.name}]({{root}}{r.path.as_posix()})" for r in runs) + " |",
        "|---|" + "---:|" * len(runs),
        "| timed rows | " + " | ".join(str(timed) for timed, _, _ in counts) + " |",
        "| flagged | " + " | ".join(f"{n} ({n / timed:.0%})" for timed, n, _ in counts) + " |",
    ]
    for kind in trust.KINDS:
        lines.append(f"| `{kind}` | " + " | ".join(str(kinds[kind]) for _, _, kinds in counts) + " |")
    return "\n".join(lines)


def _repeat(results: Results, other_name: str) -> str:
    """How far two runs of the same command agree, as bullets."""
    other = results.other(other_name)
    changes, _ = compare.compare_runs(results.session, other.session)
    changed = [c for c in changes if c.verdict]
    faster = sum(c.verdict == "faster" for c in changed)
    first, second = _efficiencies(results), _efficiencies(other)
    both = sorted(first.keys() & second.keys())
    gaps = [abs(first[key].value - second[key].value) for key in both]
    if not gaps:
        raise RenderError(f"repeat: {results.path} and {other.path} share no compute-bound efficiency")

    def widths(found: dict[tuple[str, str], Interval]) -> str:
        spans = [e.high - e.low for e in found.values() if e.high is not None and e.low is not None]
        return (
            f"{statistics.median(spans):.2f} wide at the median and {max(spans):.2f} at the worst"
            if spans
            else "-"
        )

    (timed, first_flagged, _), (_, second_flagged, _) = _flagged(results), _flagged(other)
    return "\n".join(
        [
            f"- `compare` called {len(changed)} of {len(changes)} rows changed ({faster} faster, "
            f"{len(changed) - faster} slower in the second run).",
            f"- Of the {len(both)} compute-bound efficiencies at the most workers, "
            f"{sum(g <= 0.05 for g in gaps)} were within 0.05 of each other in the two runs and "
            f"{sum(g <= 0.1 for g in gaps)} within 0.1 (the largest difference {max(gaps):.2f}).",
            f"- Their 95% intervals (high minus low) were {widths(first)} in the first run, "
            f"{widths(second)} in the second.",
            f"- Rows flagged: {first_flagged} and {second_flagged} of {timed}.",
        ]
    )


def _advice(results: Results) -> str:
    if results.session.advice is None:
        raise RenderError(f"{results.path}: not a file of python -m cookbook.advise --json")
    advice = Advice.from_session(results.session)
    lines = [f"**{advice.recommendation}**", ""]
    return "\n".join(lines + [f"- {line}" for line in advice.evidence])


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


# The ways to run pure Python in parallel that the decision guide compares: the heading, which run
# (0: the GIL build's, 1: the free-threaded build's), the variant, and its executor's costs.
WAYS = (
    ("threads", 0, "python_threads", "threads"),
    ("processes (joblib on loky)", 0, "joblib_processes", "processes"),
    ("subinterpreters", 0, "python_interpreters", "interpreters"),
    ("free-threaded threads", 1, "python_threads", "threads"),
)


def _median_and_range(values: Sequence[float]) -> str:
    return f"{statistics.median(values):.2f} [{min(values):.2f}-{max(values):.2f}]"


def _two_builds(results: Results, free_threaded: str, kind: str) -> list[Results]:
    runs = [results, results.other(free_threaded)]
    if runs[0].environment.get("free_threaded_build") or not runs[1].environment.get("free_threaded_build"):
        raise RenderError(f"{kind} takes a GIL build's results file, then a free-threaded build's")
    return runs


def _executors(results: Results, free_threaded: str) -> str:
    """Each way to run pure Python in parallel, on the recipes that timed every one of them."""
    runs = _two_builds(results, free_threaded, "executors")
    workers = max(figures.most_workers for figures in results.figures.values())

    def steps(recipe: str, run: int, variant: str) -> tuple[Row, Row] | None:
        figures = runs[run].figures.get(recipe)
        one, most = (figures.timed(variant, 1), figures.timed(variant, workers)) if figures else (None, None)
        return (one, most) if one and most and most.efficiency else None

    timed = {  # per recipe that has serial, each way's rows at 1 and the most workers
        name: [steps(name, run, variant) for _, run, variant, _ in WAYS]
        for name, figures in results.figures.items()
        if figures.timed("serial", 1)
    }
    recipes = [name for name, found in timed.items() if all(found)]
    if not recipes:
        raise RenderError(f"{results.path}: no recipe timed every way at 1 and {workers} workers")
    lines = [
        f"| pure Python on | 1 worker / serial | start-up at {workers} workers | per task "
        f"| work per task to pay | efficiency at {workers} | speedup at {workers} |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for way, (heading, run, variant, executor) in enumerate(WAYS):
        single, efficiency, speedup = [], [], []
        for name in recipes:
            found, serial = timed[name][way], results.figures[name].timed("serial", 1)
            assert found and serial and serial.median  # the recipes were chosen for having them
            one, most = found
            assert one.median and most.median and most.efficiency
            single.append(one.median.value / serial.median.value)
            speedup.append(serial.median.value / most.median.value)
            efficiency.append(most.efficiency.value)
        costs = runs[run].session.executor_costs
        if costs is None or costs.workers != workers or executor not in costs.per_task_s:
            raise RenderError(f"{runs[run].path}: no costs measured for {executor} at {workers} workers")
        cells = [
            f"{heading}, `{variant}` ({_label(runs[run])})",
            _median_and_range(single),
            report.format_seconds(costs.startup_s.get(executor)),
            report.format_seconds(costs.per_task_s[executor]),
            report.format_seconds(costs.break_even_s(executor)),
            _median_and_range(efficiency),
            _median_and_range(speedup),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    gil = _label(runs[0])
    lines += [
        "",
        f"Over the {len(recipes)} recipes that timed all four ({', '.join(recipes)}): the median and, "
        f"in brackets, the range. Times at 1 worker and speedups are over serial on {gil}, so the "
        "free-threaded build's slower single thread is counted; efficiency is each way's own "
        f"1-worker time over its time at {workers}, per worker. Start-up is a new pool's first call "
        "of one no-op task per worker; per task, a no-op task on a warm pool; the work a task must "
        f"carry for a kept pool to pay, the cost per task x w / (w - 1) with w = {workers}. Each run "
        "measured its own costs.",
    ]
    return "\n".join(lines)


PEER_VARIANTS = ("python_threads", "joblib_processes", "python_interpreters")


def _peer(results: Results, free_threaded: str, peer_file: str) -> str:
    """A peer's timings at its worker count as speedups over its serial, beside each variant that a
    GIL build's run (``results``) and a free-threaded build's run timed there."""
    runs = _two_builds(results, free_threaded, "peer")
    peer = _peer_timings(results.root, peer_file)
    workers = int(peer["workers"])
    lines = [
        f"| at {workers} workers | {peer['name']}: speedup over its serial | "
        f"cookbook: speedup over serial [95%] | cookbook: efficiency [95%] |",
        "|---|---:|---:|---:|",
    ]
    figures = [run.run(peer["recipe"]) for run in runs]
    for run, found in zip(runs, figures, strict=True):
        same_build = bool(run.environment.get("free_threaded_build")) == bool(peer["free_threaded"])
        for variant in PEER_VARIANTS:
            row = found.timed(variant, workers)
            if row is None:
                continue
            seconds = peer["seconds"].get(variant) if same_build else None
            theirs = f"{peer['serial_s'] / seconds:.2f} ({seconds:g} s)" if seconds else "not measured"
            cells = [
                f"`{variant}` on {_label(run)}",
                theirs,
                report.format_interval(row.speedup),
                report.format_interval(row.efficiency),
            ]
            lines.append("| " + " | ".join(cells) + " |")
    serials = [f.timed("serial", 1) for f in figures]
    shown = [
        f"{report.format_seconds(s.median.value)} on {_label(r)}"
        for s, r in zip(serials, runs, strict=True)
        if s and s.median
    ]
    lines += [
        "",
        f"Serial took {peer['serial_s']:g} s in {peer['name']} ({peer['python']}, {peer['machine']}), "
        f"and {' and '.join(shown)} here. {peer['source']}",
    ]
    return "\n".join(lines)


def _peer_timings(root: Path, name: str) -> dict[str, Any]:
    """A peer's published timings: who, where and on what; the recipe of ours it compares with; the
    worker count; its serial time; and its time at that count by variant of ours."""
    import json

    try:
        record = json.loads((root / name).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise RenderError(f"{name}: cannot read the peer's timings ({error})") from None
    keys = (
        "name",
        "source",
        "machine",
        "python",
        "free_threaded",
        "recipe",
        "workers",
        "serial_s",
        "seconds",
    )
    missing = [key for key in keys if not isinstance(record, dict) or key not in record]
    if missing:
        raise RenderError(f"{name}: the peer's timings have no {', '.join(missing)}")
    return dict(record)


KINDS: dict[str, tuple[int, bool, Callable[..., str]]] = {  # arguments after FILE, more allowed, renderer
    "run": (0, False, _run_line),
    "bandwidth": (0, False, _bandwidth),
    "wall": (0, False, _wall),
    "overhead": (1, False, _overhead),
    "executors": (1, False, _executors),
    "peer": (2, False, _peer),
    "summary": (0, False, _summary),
    "table": (1, False, _table),
    "value": (4, False, _value),
    "spread": (3, True, _spread),
    "compare": (4, True, _compare),
    "compare_recipe": (4, True, _compare_recipe),
    "repeat": (1, False, _repeat),
    "flags": (0, True, _flags),
    "advice": (0, False, _advice),
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
    results = _load(root, Path(args[0]))
    extra = {"document": document, "draw": draw} if kind == "plot" else {}
    text = renderer(results, *args[1:], **extra)
    to_root = os.path.relpath(root, document.parent)
    text = text.replace("{root}", "" if to_root == "." else f"{to_root}/")
    inline = "\n" not in text and kind in ("value", "spread", "run", "bandwidth", "wall", "overhead")
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
