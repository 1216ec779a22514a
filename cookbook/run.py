"""Command line: ``python -m cookbook.run all``, recipe names, or recipe files.

Runs every variant of each recipe, checks it against ``serial``, times it,
and prints one table per recipe. Exit status: 0 when every variant agrees,
1 when any variant disagrees or fails, 2 for a usage error.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from cookbook import backends, cli, environment, export, plot, report
from cookbook.cli import UsageError
from cookbook.compare import ALPHA, FACTOR, compare_runs, different_machines, environment_differences
from cookbook.figures import derive
from cookbook.isolate import measure_executor_costs, run_isolated
from cookbook.measure import plan
from cookbook.options import MODES, RunOptions, Sampling
from cookbook.progress import steps_progress
from cookbook.recipe import (
    MissingPackage,
    Recipe,
    RecipeError,
    load,
    packaged_names,
    seed_problem,
    too_small,
)
from cookbook.results import ExecutorCosts, RecipeRun, ResultsError, Session, read

__all__ = ["main"]

PROG = "python -m cookbook.run"
DESCRIPTION = f"""\
Run numerical recipes through every variant (serial, Python threads, NumPy
threads, numba threads, joblib processes, ...), check that each gives the
same result as 'serial', and time them.

TARGET is 'all' (every packaged recipe), 'list' (show the recipes and their
variants, run nothing), a recipe name, or the path of a recipe file that
follows the contract in docs/own-recipe.md.

'compare OLD.json NEW.json' compares two runs written by --json (from one
machine or two): the time ratio per recipe, variant and worker count,
flagged 'slower' or 'faster' only where a Mann-Whitney U test on the
samples gives p < {ALPHA:g}, the medians differ by at least {FACTOR:g}x (as asv),
and their 95% intervals, where both runs have them, do not overlap."""
EPILOG = """\
Timing: each variant's first call (JIT compile, process-pool start) is
reported apart. Then each step (a variant at a worker count) is warmed up
until its calls stop getting faster, and sampled in rounds: every step once
per round, in a new order each round, so that a machine that slows down
slows every step alike. A sample loops calls until it lasts --sample-time.
A step stops after --repeat rounds once the 95% interval of its median is
within --precision of it, or once its samples have taken --budget seconds.
Speedup (serial's time over the variant's) and efficiency (the variant's
1-worker time over its N-worker time, divided by N) are medians of ratios
of samples from the same round, with 95% distribution-free intervals.

modes:
  --quick      one sample per step, no intervals: a smoke test
  (default)    {default},
               at the medium size
  --rigorous   {rigorous},
               at the large size: for published tables
how long 'all' took in each mode on one machine: docs/running.md

exit status: 0 all variants agree, 1 a variant disagrees or fails, 2 usage error"""


def _mode_line(mode: Sampling) -> str:
    """A mode's settings, from MODES: never typed twice."""
    return (
        f"{mode.min_rounds}-{mode.max_rounds} rounds, +-{mode.precision * 100:g}% intervals, "
        f"{mode.budget_s:g} s per step, {mode.floor_s * 1000:g} ms samples"
    )


EPILOG = EPILOG.format(default=_mode_line(MODES["default"]), rigorous=_mode_line(MODES["rigorous"]))


def _size(text: str) -> str | int:
    if text in ("small", "medium", "large"):
        return text
    if text.isdigit() and int(text) > 0:
        return int(text)
    raise argparse.ArgumentTypeError(f"'{text}' is not small, medium, large or a positive whole number")


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = cli.Parser(
        prog=PROG,
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "targets", nargs="+", metavar="TARGET", help="all, list, recipe names, or recipe files"
    )
    parser.add_argument(
        "--size",
        type=_size,
        help="input size: 'small' (a few tens of ms serially; the default with --check-only), "
        "'medium' (about 0.1 s; the default for timing, 'large' where a recipe has no medium), "
        "'large' (a few seconds; the default with --rigorous) or a number the recipe understands",
    )
    parser.add_argument(
        "--variants",
        type=_names,
        metavar="NAME[,NAME...]",
        help="run only these variants ('serial' always runs: it is the reference)",
    )
    cli.add_measuring_arguments(
        parser,
        rigorous="more rounds, narrower intervals, longer samples, and the large size unless --size is "
        "given: for published tables",
    )
    parser.add_argument(
        "--check-only",
        action="store_true",
        help="check agreement only: one call per variant, at the small size, not timed (fast, for CI)",
    )
    parser.add_argument(
        "--json", type=Path, metavar="PATH", help="also write the results and environment to PATH"
    )
    parser.add_argument(
        "--markdown", type=Path, metavar="PATH", help="also write the tables as Markdown to PATH"
    )
    parser.add_argument(
        "--csv", type=Path, metavar="PATH", help="also write one CSV row per measurement to PATH"
    )
    backends.add_arguments(parser)
    cli.add_timeout(parser, "each recipe")
    parser.add_argument(
        "--force",
        action="store_true",
        help="overwrite existing --json, --markdown, --csv files and --plot images (refused without it)",
    )
    parser.add_argument(
        "--plot",
        type=Path,
        metavar="DIR",
        help="also draw one PNG per recipe into DIR (made if missing): speedup and time against workers; "
        'needs the plot extra, pip install -e ".[plot]"',
    )
    return parser


OUTPUTS = ("json", "markdown", "csv")


def _check_outputs(args: argparse.Namespace) -> None:
    """Refuse output paths before any work starts: each must be writable, and none given twice."""
    seen: dict[Path, str] = {}
    for option in OUTPUTS:
        path = getattr(args, option)
        if not path:
            continue
        _check_output_path(option, path, args.force)
        other = seen.setdefault(path.resolve(), option)
        if other != option:
            raise UsageError(f"--{other} and --{option} name one file, {path}: give each its own")


def _check_output_path(option: str, path: Path, force: bool) -> None:
    """Refuse an output path before any work starts, rather than after."""
    if path.is_dir():
        raise UsageError(f"--{option} {path}: is a folder, not a file")
    if path.exists() and not force:
        raise UsageError(f"--{option} {path}: the file exists; add --force to overwrite it")
    _check_writable(option, path, path.parent)


def _check_plot_folder(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--plot {folder}: is a file, not a folder")
    _check_writable("plot", folder, folder if folder.is_dir() else folder.parent)


def _check_writable(option: str, shown: Path, folder: Path) -> None:
    if not folder.is_dir():
        raise UsageError(f"--{option} {shown}: the folder {folder} does not exist")
    try:  # a real write, because os.access says yes to root everywhere
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise UsageError(f"--{option} {shown}: cannot write in {folder} ({error.strerror})") from None


def _load_targets(targets: Sequence[str]) -> tuple[list[Recipe], list[str]]:
    """The recipes to run, and why any were skipped (a package this Python does not have)."""
    recipes: list[Recipe] = []
    skipped: list[str] = []
    for target in targets:
        for name in packaged_names() if target == "all" else [target]:
            try:
                recipe = load(name)
            except MissingPackage as missing:
                skipped.append(str(missing))
                continue
            if recipe.path not in {r.path for r in recipes}:
                recipes.append(recipe)
    if not recipes and skipped:
        raise UsageError(f"no recipe can run here: {'; '.join(skipped)}")
    return recipes, list(dict.fromkeys(skipped))


def _list(recipes: Sequence[Recipe]) -> None:
    width = max(len(r.name) for r in recipes)
    for recipe in recipes:
        line = f"{recipe.name:<{width}}  {', '.join(recipe.variants)}"
        if recipe.not_applicable:
            reasons = "; ".join(f"{v}: {why}" for v, why in recipe.not_applicable.items())
            line += f"  (not run: {reasons})"
        print(line)


def _run(args: argparse.Namespace, recipes: Sequence[Recipe], options: RunOptions) -> int:
    stdout = _stdout_console()
    started = time.monotonic()
    asked = {"targets": args.targets, "skipped_recipes": args.skipped}
    session = cli.new_session(options, asked, args.command)
    env = session.environment
    report.print_header(stdout, env, options)
    stopped_by: int | None = None  # the exit status of an interrupted run
    in_main_thread = threading.current_thread() is threading.main_thread()  # signal() works only there
    previous_handler = signal.signal(signal.SIGTERM, _raise_terminated) if in_main_thread else None
    try:
        if not options.check_only and max(options.workers) > 1:
            costs = _executor_costs(recipes, options)
            env["executor_costs"] = costs.to_dict()
            stdout.print(report.costs_line(costs), markup=False, highlight=False)
        _measure_all(recipes, options, stdout, session)
    except KeyboardInterrupt:
        stopped_by = 130
    except Terminated:
        stopped_by = 143
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous_handler)
    env.update(_thread_pools(session.runs))  # known once the recipes' processes have loaded them
    cli.finish(session, started)
    session.complete = stopped_by is None
    stdout.print()
    stdout.print(report.pools_line(env), markup=False, highlight=False)
    _write_outputs(args, session)
    if stopped_by is not None:
        written = [str(getattr(args, o)) for o in OUTPUTS if getattr(args, o)]
        where = f"; what was measured is in {', '.join(written)}" if written else ""
        print(f"{PROG}: interrupted{where}", file=sys.stderr)
        return stopped_by
    return 0 if session.ok else 1


def _executor_costs(recipes: Sequence[Recipe], options: RunOptions) -> ExecutorCosts:
    """Each executor's start-up and cost per task at the most workers, measured once, before the
    recipes, in a fresh process (subinterpreters only when a recipe runs on them)."""
    workers = max(options.workers)
    steps = [s for r in recipes for s in plan(r, options.variants, options.workers, options.backends)]
    interpreters = any(step.kind.executor == "interpreters" for step in steps)
    result = measure_executor_costs(
        options.backends, workers, options.scheduler, interpreters, options.timeout_s
    )
    if isinstance(result, str):
        return ExecutorCosts(workers, {}, {}, error=result)
    return ExecutorCosts(
        workers,
        per_task_s={executor: per_task for executor, (per_task, _, _) in result.items()},
        startup_s={executor: startup for executor, (_, _, startup) in result.items()},
    )


def _thread_pools(runs: Sequence[RecipeRun]) -> dict[str, Any]:
    """The native pools the recipes' processes loaded, and the numba threading layer they started."""
    seen = [run.thread_pools for run in runs if run.thread_pools]
    if not seen:
        return environment.thread_pools()
    started = [p for p in seen if not p["numba_threading_layer"].startswith("not ")]
    blas = {(p["user_api"], p["internal_api"], p["prefix"]): p for pools in seen for p in pools["blas_pools"]}
    return {**(started or seen)[-1], "blas_pools": list(blas.values())}


class Terminated(BaseException):
    """SIGTERM arrived: unwind like Ctrl-C (a BaseException, so no variant's ``except Exception`` eats it)."""


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated


def _measure_all(recipes: Sequence[Recipe], options: RunOptions, stdout: Console, session: Session) -> None:
    """Run every recipe into ``session``, printing each table as it finishes, with a progress display."""
    total = sum(len(plan(r, options.variants, options.workers, options.backends)) for r in recipes)
    with steps_progress(total) as on_step:
        for recipe in recipes:
            into = session.runs
            run = run_isolated(recipe, options, on_step=on_step, on_measured=lambda run, m: None, into=into)
            stdout.print()
            report.print_run(stdout, derive(run, session.bandwidth))


def _write_outputs(args: argparse.Namespace, session: Session) -> None:
    writers = {"json": export.to_json, "markdown": export.to_markdown, "csv": export.to_csv}
    for option in OUTPUTS:
        path = getattr(args, option)
        if path:
            export.write_text(path, writers[option](session))
    if args.plot:
        args.plot.mkdir(exist_ok=True)
        for run in session.runs:
            if any(m.timed for m in run.measurements):
                plot.plot_run(derive(run, session.bandwidth), args.plot)


def _stdout_console() -> Console:
    return Console(width=None if sys.stdout.isatty() else 240)  # logs: wide rather than wrapped


def _compare(old_path: Path, new_path: Path) -> int:
    old, new = read(old_path), read(new_path)
    stdout = _stdout_console()
    stdout.print(f"old: {old_path}\nnew: {new_path}", markup=False, highlight=False)
    if different_machines(old, new):
        stdout.print(
            "these runs come from different machines or interpreters: each ratio compares them as well "
            "as the code",
            markup=False,
            highlight=False,
        )
    for line in environment_differences(old, new) or ["same interpreter, machine and libraries"]:
        stdout.print(f"  {line}", markup=False, highlight=False)
    changes, only = compare_runs(old, new)
    title = (
        f"new time / old time (a change: Mann-Whitney U p < {ALPHA:g}, a ratio beyond {FACTOR:g}x "
        "as asv compare, and the medians' intervals apart)"
    )
    table = Table(title=title)
    columns = ("recipe", "variant", "workers", "old median [95%]", "new median [95%]", "ratio", "p", "change")
    for column in columns:
        table.add_column(column, justify="left" if column in ("recipe", "variant", "change") else "right")
    for c in changes:
        before = report.format_interval(c.old, seconds=True)
        after = report.format_interval(c.new, seconds=True)
        p = "-" if c.p_value is None else f"{c.p_value:.2g}"
        cells = [c.recipe, c.variant, str(c.workers), before, after, f"{c.ratio:.2f}", p, c.verdict]
        table.add_row(*cells, style={"slower": "red", "faster": "green"}.get(c.verdict))
    stdout.print(table)
    for line in only:
        stdout.print(line, markup=False, highlight=False)
    return 0


def _options(args: argparse.Namespace) -> RunOptions:
    """The one options object of this run, from the command line."""
    sampling = cli.sampling(args)
    default_size = "small" if args.check_only else "large" if args.mode == "rigorous" else None
    size = args.size or default_size
    return RunOptions(
        size=size,
        workers=tuple(args.workers or cli.default_workers()),
        variants=tuple(args.variants) if args.variants else None,
        backends=tuple(args.backend),
        scheduler=args.scheduler,
        check_only=args.check_only,
        sampling=sampling,
        timeout_s=args.timeout,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    try:
        args = build_parser().parse_args(argv)
        args.command = cli.command_line(PROG, sys.argv[1:] if argv is None else argv)
        if args.targets[0] == "compare":
            if len(args.targets) != 3:
                raise UsageError("compare takes two results files: compare OLD.json NEW.json")
            return _compare(Path(args.targets[1]), Path(args.targets[2]))
        listing = "list" in args.targets
        targets = [t for t in args.targets if t != "list"] or (["all"] if listing else [])
        if not listing:
            _check_outputs(args)
        if args.plot and not listing:
            plot.require()
            _check_plot_folder(args.plot)
        backends.check(args.backend, args.scheduler, connect=not listing)
        options = _options(args)
        workers = options.workers
        # numba sizes its thread pool when it is first imported; make room for --workers.
        if "numba" not in sys.modules and max(workers) > environment.usable_cores():
            os.environ.setdefault("NUMBA_NUM_THREADS", str(max(workers)))
        recipes, args.skipped = _load_targets(targets)
        for reason in args.skipped:
            print(reason, file=sys.stderr)
        if listing:
            _list(recipes)
            return 0
        if args.plot and not args.force:
            existing = [
                str(args.plot / f"{r.name}.png") for r in recipes if (args.plot / f"{r.name}.png").exists()
            ]
            if existing:
                raise UsageError(
                    f"--plot {args.plot}: {', '.join(existing)} exist; add --force to overwrite them"
                )
        small = [reason for r in recipes if (reason := too_small(r, options.size))]
        if small:
            raise UsageError("; ".join(small))
        for recipe in recipes:
            problem = None if recipe.packaged else seed_problem(recipe)
            if problem:
                print(f"{PROG}: warning: {problem}", file=sys.stderr)
        if args.variants:
            known = {v for r in recipes for v in [*r.variants, *r.not_applicable]}  # those say why
            unknown = [v for v in args.variants if v not in known]
            if unknown:
                raise UsageError(
                    f"--variants: unknown {', '.join(unknown)} (valid: {', '.join(sorted(known))})"
                )
        return _run(args, recipes, options)
    except (UsageError, RecipeError, ResultsError, plot.PlotError, backends.BackendError) as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    except MemoryError as error:  # outside any variant (those are reported in their rows)
        detail = f": {error}" if str(error) else ""
        print(f"{PROG}: error: out of memory{detail}; try a smaller --size", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
