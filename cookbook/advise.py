"""Will it pay for my function? Measure the ladder of variants for your own kernel.

``python -m cookbook.advise path/to/module.py:kernel`` (or ``package.module:kernel``)
takes the chunks from the module's ``make_chunks()`` (or ``--chunks``), and runs
``kernel(chunk)`` on every chunk through the cookbook's ladder: ``serial``, Python
threads, loky worker processes, and the same function compiled by
``numba.njit(nogil=True)`` on one thread and on threads, if numba compiles it. All of
it runs in a process of its own (``cookbook.isolate.run_kernel``): a kernel that hangs
past ``--timeout`` or crashes costs its rung's row, not the command. Every rung is
checked against ``serial`` on all the chunks (or on what ``--combine`` reduces them
to), then timed by the cookbook's calibrated sampling on some of them; the advice
names the rung that pays, how sure that is, and why each other one loses
(``cookbook.diagnosis``).

From Python (a notebook, say; or ``%load_ext cookbook`` and ``%advise``)::

    from cookbook.advise import advise
    advice = advise(kernel, chunks)
    advice            # the recommendation and its evidence
    advice.table()    # every variant, as the report prints it
    advice.to_dict()  # what --json writes
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from cookbook import backends, cli, export
from cookbook.advice import Advice, Printed
from cookbook.isolate import run_kernel
from cookbook.kernel import DEFAULT_CHUNKS, KernelError, Target, find, ladder_recipe, make
from cookbook.measure import plan
from cookbook.options import ADVISE_MODES, RunOptions
from cookbook.progress import steps_progress
from cookbook.recipe import Recipe, RecipeError

__all__ = ["Advice", "AdviceError", "advise", "main"]

PROG = "python -m cookbook.advise"
Kernel = Callable[[Any], Any]
Chunks = list[Any]
Combine = Callable[[list[Any]], Any]


class AdviceError(Exception):
    """A mistake in what was asked for (a module, a name, the chunks): one line, exit status 2."""


# --- the target: a kernel, its chunks, how to combine their results -----------------------------


def load_target(
    target: str, chunks: str | None = None, combine: str | None = None
) -> tuple[Kernel, Iterable[Any], Combine | None]:
    """The kernel named ``module:kernel``, what its chunks function returns, its reducer; or AdviceError.

    ``chunks`` and ``combine`` name a function of the kernel's module (``NAME``)
    or of another (``module:NAME``, ``path.py:NAME``). This process calls the
    chunks function: for ``advise`` from Python.
    """
    try:
        kernel, make_chunks, reducer = find(target, chunks, combine)
        return kernel, make(make_chunks)[0], reducer
    except KernelError as error:
        raise AdviceError(str(error)) from None


# --- the API and the command --------------------------------------------------------------------


def advise(
    kernel: Kernel,
    chunks: Iterable[Any],
    *,
    combine: Combine | None = None,
    name: str | None = None,
    options: RunOptions | None = None,
    rtol: float = 0.0,
    atol: float = 0.0,
    progress: bool = False,
    command: str | None = None,
) -> Advice:
    """Measure what pays for ``kernel`` over ``chunks``: the ladder, checked and timed.

    The kernel runs in a process of its own, never in this one: a kernel that
    hangs (past ``options.timeout_s``) or crashes costs its rung's row. The
    kernel, chunks and reducer are pickled to it (by cloudpickle: functions
    defined in a notebook too). ``options`` as for ``cookbook.run`` (workers,
    sampling, backends, timeout); ``progress`` shows the steps on stderr as
    they run; ``command`` is recorded with the results, as the command line
    that asked for them.
    """
    label = str(name or getattr(kernel, "__qualname__", "kernel"))
    try:
        made, materialized = make(lambda: chunks)
        target = Target.of(label, kernel, made, combine, rtol, atol, materialized)
    except KernelError as error:
        raise AdviceError(str(error)) from None
    recipe_for = partial(ladder_recipe, label, kernel, made, combine, tol=(rtol, atol))
    return _measure(target, recipe_for, options, progress, command)


def _advise_named(
    target: str,
    chunks: str | None,
    combine: str | None,
    options: RunOptions,
    tol: tuple[float, float],
    command: str,
) -> Advice:
    """As ``advise``, for the kernel and functions named on the command line: the runner imports them.

    This process imports them too, to say in one line what is missing; the
    runner calls the chunks function, so that a hang there is a timeout too.
    """
    try:
        kernel, _, reducer = find(target, chunks, combine)
    except KernelError as error:
        raise AdviceError(str(error)) from None
    label = str(getattr(kernel, "__qualname__", "kernel"))
    named = Target.named(label, (target, chunks, combine), *tol)
    recipe_for = partial(ladder_recipe, label, kernel, [], reducer, tol=tol)  # to plan: no chunks needed
    return _measure(named, recipe_for, options, True, command)


def _measure(
    target: Target,
    recipe_for: Callable[[str | None, str | None], Recipe],
    options: RunOptions | None,
    progress: bool,
    command: str | None,
) -> Advice:
    options = options or RunOptions(workers=cli.advise_workers(), sampling=ADVISE_MODES["default"])
    session = cli.new_session(options, {"kernel": target.name}, command)
    steps = plan(recipe_for(None, None), options.variants, options.workers, options.backends)
    total = len(steps) + 2  # and, first, the serial pass and numba's compile
    try:
        with steps_progress(total) if progress else contextlib.nullcontext(_quiet) as on_step:
            measured = run_kernel(
                target, recipe_for, options, on_step=on_step, on_measured=_none, into=session.runs
            )
    except KernelError as error:
        raise AdviceError(str(error)) from None
    examined = measured.examined
    return Advice(
        name=target.name,
        session=session,
        numba_reason=None if examined is None else examined.numba_reason,
        compile_s=None if examined is None else examined.compile_s,
        shipping=None if examined is None else examined.shipping,
        overhead_s=measured.overheads[0],
        call_overhead_s=measured.overheads[1],
        examined=examined,
        round_trip_s=measured.round_trip_s,
        printed=Printed.of(measured.output),
        materialized=None if examined is None else examined.materialized,
    )


def _quiet(recipe: str, variant: str, workers: int, phase: str) -> None:
    pass


def _none(run: Any, measurement: Any) -> None:
    pass


def _parser() -> argparse.ArgumentParser:
    parser = cli.Parser(
        prog=PROG,
        description=__doc__.split("\n\n")[0],
        epilog="It advises the fastest variant that beats serial for sure and by 10% or more, and says "
        "what limits each other one: the GIL, memory, or what a task costs against the work in a chunk. "
        "Exit status: 0 when every variant agreed with serial, 1 when one failed or disagreed, 2 for a "
        "mistake in what was asked (one line on stderr).",
    )
    parser.add_argument("target", help="MODULE:KERNEL, MODULE a .py path or a dotted module name")
    parser.add_argument(
        "--chunks",
        default=None,
        help="the function returning the chunks: NAME in the kernel's module, or module:NAME, or "
        f"path.py:NAME (default: {DEFAULT_CHUNKS})",
    )
    parser.add_argument(
        "--combine", default=None, help="the function reducing the list of results, named as --chunks is"
    )
    cli.add_advise_arguments(parser)
    parser.add_argument("--json", type=Path, help="write the advice and every measurement as JSON")
    parser.add_argument("--markdown", type=Path, help="write the advice and the table as Markdown")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    started = time.monotonic()
    try:
        args = _parser().parse_args(argv)
        if args.json and args.markdown and args.json.resolve() == args.markdown.resolve():
            raise AdviceError(f"--json and --markdown name one file, {args.json}: give each its own")
        backends.check(args.backend, args.scheduler)
        options = cli.advise_options(args)
        command = cli.command_line(PROG, sys.argv[1:] if argv is None else argv)
        tol = (args.rtol, args.atol)
        advice = _advise_named(args.target, args.chunks, args.combine, options, tol, command)
    except (cli.UsageError, AdviceError, RecipeError, backends.BackendError) as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # the runner and its workers were killed on the way out
        print(f"{PROG}: interrupted: nothing written", file=sys.stderr)
        return 130
    cli.finish(advice.session, started)  # loading, the ladder, the costs
    print(advice.table())
    print()
    print(repr(advice))
    if args.json:
        export.write_text(args.json, export.to_json(advice.results()))
    if args.markdown:
        export.write_text(args.markdown, advice.to_markdown(args.target))
    return 0 if advice.run.ok else 1


if __name__ == "__main__":
    sys.exit(main())
