"""Will it pay for my function? Measure the ladder of variants for your own kernel.

``python -m cookbook.advise path/to/module.py:kernel`` (or ``package.module:kernel``)
imports the module, takes its chunks from ``make_chunks()`` (or ``--chunks NAME``), and
runs ``kernel(chunk)`` on every chunk through the cookbook's ladder: ``serial``, Python
threads, loky worker processes, and the same function compiled by ``numba.njit(nogil=True)``
on one thread and on threads, if numba compiles it. Each variant's results, in chunk
order (or reduced by ``--combine NAME``), must agree with ``serial``'s; then the
cookbook's calibrated sampling times them, and the GIL probe says how much of a call
holds the GIL. The advice names the variant that pays, with its evidence.

From Python (a notebook, say)::

    from cookbook.advise import advise
    advice = advise(kernel, chunks)
    advice            # the recommendation and its evidence
    advice.table()    # every variant, as the report prints it
    advice.to_dict()  # what --json writes
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import pickle
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from cookbook import backends, cli, export
from cookbook.advice import Advice, Shipping
from cookbook.agreement import compare
from cookbook.measure import plan, run_recipe
from cookbook.options import RunOptions
from cookbook.progress import steps_progress
from cookbook.recipe import Kind, MissingPackage, Recipe, RecipeError, import_file
from cookbook.results import step_name

__all__ = ["Advice", "AdviceError", "advise", "main"]

PROG = "python -m cookbook.advise"
DEFAULT_CHUNKS = "make_chunks"
Kernel = Callable[[Any], Any]
Chunks = list[Any]
Combine = Callable[[list[Any]], Any]
Variant = Callable[[Chunks, int], Any]


class AdviceError(Exception):
    """A mistake in what was asked for (a module, a name, the chunks): one line, exit status 2."""


# --- the target: a kernel, its chunks, how to combine their results -----------------------------


def _import_module(spec: str) -> Any:
    """A module by path (``dir/module.py``) or by dotted name; AdviceError in one line if it fails."""
    try:
        if spec.endswith(".py") or "/" in spec:
            if not Path(spec).is_file():
                raise AdviceError(f"{spec}: no such file")
            return import_file(Path(spec))  # worker processes import it by name, as they import recipes
        return importlib.import_module(spec)
    except MissingPackage as error:  # "skipped" is a recipe's fate; here it is the user's module that fails
        raise AdviceError(f"{spec}: cannot import it: {error.__cause__}") from None
    except RecipeError as error:
        raise AdviceError(str(error)) from None
    except Exception as error:  # the user's module failed to import: say why, in one line
        raise AdviceError(f"{spec}: cannot import it: {type(error).__name__}: {error}") from None


def _attribute(module: Any, name: str, what: str) -> Any:
    value = getattr(module, name, None)
    if not callable(value):
        found = "is not a function" if value is not None else "does not exist"
        raise AdviceError(f"{module.__name__}.{name}: {found} (it should be {what})")
    return value


def load_target(
    target: str, chunks: str | None = None, combine: str | None = None
) -> tuple[Kernel, Chunks, Combine | None]:
    """The kernel named ``module:kernel``, its chunks and its reducer, or AdviceError."""
    module_spec, _, kernel_name = target.rpartition(":")
    if not module_spec or not kernel_name:
        raise AdviceError(f"{target}: expected MODULE:KERNEL, e.g. my_module.py:kernel")
    module = _import_module(module_spec)
    kernel = _attribute(module, kernel_name, "the kernel, called as kernel(chunk)")
    make_chunks = _attribute(module, chunks or DEFAULT_CHUNKS, "a function returning the list of chunks")
    reducer = _attribute(module, combine, "a function of the list of results") if combine else None
    try:
        made = list(make_chunks())
    except Exception as error:
        where = f"{module.__name__}.{chunks or DEFAULT_CHUNKS}()"
        raise AdviceError(f"{where}: {type(error).__name__}: {error}") from None
    return kernel, made, reducer


# --- the ladder ---------------------------------------------------------------------------------


def _compiled(kernel: Kernel, chunk: Any) -> tuple[Kernel | None, str | None, float | None]:
    """``numba.njit(nogil=True)`` of the kernel, compiled on one chunk; or why it cannot be."""
    try:
        import numba
    except ImportError:
        return None, "numba is not installed for this Python", None
    compiled = numba.njit(nogil=True)(kernel)
    start = time.perf_counter()
    try:
        compiled(chunk)
    except Exception as error:  # numba's TypingError and friends: its first line says why
        lines = [line.strip() for line in str(error).splitlines() if line.strip()]
        reason = next((line for line in lines if not line.startswith("Failed in")), type(error).__name__)
        return None, f"numba cannot compile it in nopython mode: {reason}", None
    first = time.perf_counter() - start
    start = time.perf_counter()
    compiled(chunk)
    return compiled, None, max(0.0, first - (time.perf_counter() - start))


KINDS = {  # what runs each rung's work: declared here, not read from the names
    "serial": Kind("one thread"),
    "python_threads": Kind("threads"),
    "joblib_processes": Kind("processes"),
    "numba": Kind("one thread"),
    "numba_threads": Kind("threads"),
}


def _ladder(kernel: Kernel, compiled: Kernel | None, combine: Combine | None) -> dict[str, Variant]:
    finish = combine or (lambda results: results)

    def serial(chunks: Chunks, n_workers: int) -> Any:
        return finish([kernel(c) for c in chunks])

    def python_threads(chunks: Chunks, n_workers: int) -> Any:
        with ThreadPoolExecutor(n_workers) as pool:
            return finish(list(pool.map(kernel, chunks)))

    def joblib_processes(chunks: Chunks, n_workers: int) -> Any:
        from joblib import Parallel, delayed

        return finish(Parallel(n_jobs=n_workers, prefer="processes")(delayed(kernel)(c) for c in chunks))

    variants: dict[str, Variant] = {
        "serial": serial,
        "python_threads": python_threads,
        "joblib_processes": joblib_processes,
    }
    if compiled is not None:

        def numba_(chunks: Chunks, n_workers: int) -> Any:
            return finish([compiled(c) for c in chunks])

        def numba_threads(chunks: Chunks, n_workers: int) -> Any:
            with ThreadPoolExecutor(n_workers) as pool:
                return finish(list(pool.map(compiled, chunks)))

        variants |= {"numba": numba_, "numba_threads": numba_threads}
    return variants


def _recipe(
    name: str,
    path: Path,
    chunks: Chunks,
    variants: dict[str, Variant],
    reason: str | None,
    tol: tuple[float, float],
) -> Recipe:
    n = len(chunks)

    def make_input(size: int, seed: int = 0) -> Chunks:
        return chunks  # the user's chunks, whatever the size and seed

    not_applicable = {v: reason for v in ("numba", "numba_threads") if reason}
    return Recipe(
        name=name,
        path=path,
        sizes={"small": n, "medium": n, "large": n},
        make_input=make_input,
        variants=variants,
        not_applicable=not_applicable,
        rtol=tol[0],
        atol=tol[1],
        summary=f"{name} on {n} chunks",
        min_size=1,
        tasks=n,
        kinds=KINDS,
    )


def _shipping(chunks: Chunks, results: list[Any]) -> Shipping | None:
    """Pickled sizes and round-trip time of the first chunks and their results; None if unpicklable."""
    try:
        sample = list(zip(chunks[:8], results[:8], strict=False))
        times, sizes = [], []
        for chunk, result in sample:
            start = time.perf_counter()
            blobs = pickle.dumps(chunk, protocol=5), pickle.dumps(result, protocol=5)
            pickle.loads(blobs[0]), pickle.loads(blobs[1])
            times.append(time.perf_counter() - start)
            sizes.append((len(blobs[0]), len(blobs[1])))
    except Exception:
        return None
    return Shipping(
        chunk_bytes=round(statistics.median(s[0] for s in sizes)),
        result_bytes=round(statistics.median(s[1] for s in sizes)),
        seconds=statistics.median(times),
    )


# --- the API and the command --------------------------------------------------------------------


def advise(
    kernel: Kernel,
    chunks: Sequence[Any],
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

    ``options`` as for ``cookbook.run`` (workers, sampling, backends, scheduler);
    ``progress`` shows the steps on stderr as they run; ``command`` is recorded
    with the results, as the command line that asked for them.
    """
    chunks = list(chunks)
    if not chunks:
        raise AdviceError("no chunks: the kernel needs at least one chunk to run on")
    label = str(name or getattr(kernel, "__qualname__", "kernel"))
    first = _deterministic(kernel, chunks, combine, label, rtol, atol)
    compiled, reason, compile_s = _compiled(kernel, chunks[0])
    options = options or RunOptions(workers=cli.default_workers())
    module = sys.modules.get(kernel.__module__)
    path = Path(getattr(module, "__file__", None) or "<kernel>")
    recipe = _recipe(label, path, chunks, _ladder(kernel, compiled, combine), reason, (rtol, atol))
    session = cli.new_session(options, {"kernel": label}, command)
    total = len(plan(recipe, options.variants, options.workers, options.backends))
    with steps_progress(total) if progress else contextlib.nullcontext(_quiet) as on_step:
        session.runs.append(run_recipe(recipe, options, on_step=on_step))
    per_task, per_call = ({}, {}) if options.check_only else _overheads(options)
    return Advice(
        name=label,
        session=session,
        numba_reason=reason,
        compile_s=compile_s,
        shipping=_shipping(chunks, first),
        overhead_s=per_task,
        call_overhead_s=per_call,
    )


def _quiet(recipe: str, variant: str, workers: int, phase: str) -> None:
    pass


def _deterministic(
    kernel: Kernel, chunks: Chunks, combine: Combine | None, name: str, rtol: float, atol: float
) -> list[Any]:
    """The kernel's results over the chunks, after checking that a second pass gives the same."""
    try:
        first = [kernel(c) for c in chunks]
        second = [kernel(c) for c in chunks]
    except Exception as error:
        raise AdviceError(f"{name} raised on a chunk: {type(error).__name__}: {error}") from None
    finish = combine or (lambda results: results)
    same = compare(finish(first), finish(second), rtol=rtol, atol=atol)
    if not same.ok:
        raise AdviceError(f"{name} is not deterministic: two serial passes differ ({same.detail})")
    return first


def _overheads(options: RunOptions) -> tuple[dict[str, float], dict[str, float]]:
    """Seconds per no-op task and per call at the most workers: on threads, and on each process backend."""
    workers = max(options.workers)
    if workers < 2:
        return {}, {}
    per_task, per_call = {}, {}
    per_task["threads"], per_call["threads"] = backends.thread_overheads(workers)
    for backend in options.backends:
        executor = step_name("processes", backend)
        per_task[executor], per_call[executor] = backends.process_overheads(
            backend, workers, options.scheduler
        )
    return per_task, per_call


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
        help=f"the module's function returning the chunks (default: {DEFAULT_CHUNKS})",
    )
    parser.add_argument("--combine", default=None, help="the module's function reducing the list of results")
    cli.add_measuring_arguments(parser, rigorous="more rounds, narrower intervals, longer samples")
    parser.add_argument(
        "--check-only",
        action="store_true",
        help="check that every variant agrees with serial, one call each, and time nothing",
    )
    parser.add_argument(
        "--rtol", type=cli.tolerance, default=0.0, help="relative tolerance for float results (default 0)"
    )
    parser.add_argument(
        "--atol", type=cli.tolerance, default=0.0, help="absolute tolerance for float results (default 0)"
    )
    backends.add_arguments(parser)
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
        kernel, chunks, combine = load_target(args.target, args.chunks, args.combine)
        options = RunOptions(
            workers=tuple(args.workers or cli.default_workers()),
            sampling=cli.sampling(args),
            check_only=args.check_only,
            backends=tuple(args.backend),
            scheduler=args.scheduler,
        )
        command = cli.command_line(PROG, sys.argv[1:] if argv is None else argv)
        advice = advise(
            kernel,
            chunks,
            combine=combine,
            options=options,
            rtol=args.rtol,
            atol=args.atol,
            progress=True,
            command=command,
        )
    except (cli.UsageError, AdviceError, RecipeError, backends.BackendError) as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
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
