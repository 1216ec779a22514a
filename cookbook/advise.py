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
import importlib
import importlib.util
import json
import pickle
import shlex
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cookbook import environment, export, report
from cookbook.agreement import compare
from cookbook.backends import task_overhead
from cookbook.measure import run_recipe
from cookbook.options import MODES, RunOptions
from cookbook.recipe import Recipe, RecipeError, is_single_threaded
from cookbook.results import Measurement, RecipeRun
from cookbook.stats import Interval

__all__ = ["Advice", "AdviceError", "advise", "main"]

PROG = "python -m cookbook.advise"
DEFAULT_CHUNKS = "make_chunks"
Kernel = Callable[[Any], Any]
Chunks = list[Any]
Combine = Callable[[list[Any]], Any]
Variant = Callable[[Chunks, int], Any]


class AdviceError(Exception):
    """A mistake in what was asked for (a module, a name, the chunks): one line, exit status 2."""


@dataclass(frozen=True)
class Shipping:
    """What sending one chunk to a worker process and its result back costs, measured by pickle."""

    chunk_bytes: int
    result_bytes: int
    seconds: float  # pickling and unpickling one chunk and its result, median of the first chunks


@dataclass
class Advice:
    """The measured ladder for one kernel, and what it says."""

    name: str
    run: RecipeRun
    environment: dict[str, Any]
    numba_reason: str | None = None  # why numba could not compile the kernel, if it could not
    compile_s: float | None = None  # numba's compile time, apart from any timing
    shipping: Shipping | None = None
    overhead_s: dict[str, float] = field(default_factory=dict)  # per no-op task, per executor
    break_even_s: dict[str, float] = field(default_factory=dict)  # work per chunk below which it loses

    @property
    def workers(self) -> int:
        return max((m.workers for m in self.run.measurements), default=1)

    @property
    def recommendation(self) -> str:
        """The variant that pays, in plain words, with its speedup; or why none does."""
        return _recommendation(self)

    @property
    def evidence(self) -> list[str]:
        """One line per variant at the most workers (and each one-thread variant), then the costs."""
        return _evidence(self)

    def table(self) -> str:
        """Every variant's row, as Markdown."""
        return export.recipe_markdown(self.run, export.bandwidth(self.environment))

    def to_dict(self) -> dict[str, Any]:
        return {
            "kernel": self.name,
            "recommendation": self.recommendation,
            "evidence": self.evidence,
            "numba_reason": self.numba_reason,
            "compile_s": self.compile_s,
            "shipping": None if self.shipping is None else vars(self.shipping),
            "overhead_per_task_s": self.overhead_s,
            "break_even_work_per_chunk_s": self.break_even_s,
        }

    def __repr__(self) -> str:
        return "\n".join([f"{self.name}: {self.recommendation}", *(f"  - {line}" for line in self.evidence)])


# --- the target: a kernel, its chunks, how to combine their results -----------------------------


def _import_module(spec: str) -> Any:
    """A module by path (``dir/module.py``) or by dotted name; AdviceError in one line if it fails."""
    if spec.endswith(".py") or "/" in spec:
        path = Path(spec).resolve()
        if not path.is_file():
            raise AdviceError(f"{spec}: no such file")
        # Worker processes import the module by name to unpickle the kernel: its folder goes on
        # sys.path (appended, so that it never shadows an installed module).
        if str(path.parent) not in sys.path:
            sys.path.append(str(path.parent))
        name = path.stem
    else:
        name = spec
    try:
        module = importlib.import_module(name)
    except Exception as error:  # the user's module failed to import: say why, in one line
        raise AdviceError(f"{spec}: cannot import it: {type(error).__name__}: {error}") from None
    if spec.endswith(".py") and Path(getattr(module, "__file__", "") or "").resolve() != Path(spec).resolve():
        raise AdviceError(f"{spec}: its name '{name}' is taken by the module {module.__file__}; rename it")
    return module


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


# --- what it says -------------------------------------------------------------------------------


def _interval(value: Interval | None) -> str:
    return report.format_interval(value)


def _times(value: Interval | None) -> str:
    """A speedup as ``1.85x [1.63-1.91]``."""
    return _interval(value).replace(" ", "x ", 1) if value is not None else "-"


def _best(run: RecipeRun) -> Measurement | None:
    """The fastest timed variant other than serial: one-thread variants, or others above 1 worker."""
    timed = [
        m
        for m in run.measurements
        if m.timed and m.median and m.variant != "serial" and (m.workers > 1 or is_single_threaded(m.variant))
    ]
    return min(timed, key=lambda m: m.median.value if m.median else float("inf"), default=None)


def _evidence(advice: Advice) -> list[str]:
    run, lines = advice.run, []
    for m in run.measurements:
        shown = m.workers == advice.workers or is_single_threaded(m.variant)
        if not m.timed or not shown or m.variant == "serial":
            continue
        line = f"{m.variant} x{m.workers}: {_times(run.speedup(m))} serial"
        if m.workers > 1:
            line += f", efficiency {_interval(run.efficiency(m))}"
        one = run.find(m.variant, 1)
        if one is not None and one.gil_held is not None:
            line += f"; a call holds the GIL {one.gil_held:.0%} of the time"
        lines.append(line)
    failed = [m for m in run.measurements if m.status != "OK"]
    lines += [f"{m.variant} x{m.workers}: {m.status}: {m.detail}" for m in failed]
    errors = [m.max_error for m in failed if m.status == "MISMATCH" and m.max_error is not None]
    if errors:
        lines.append(
            f"floats differed from serial's by up to {max(errors):.3g} (another order of additions?): "
            "--rtol or --atol says what difference you accept"
        )
    if not advice.environment["gil_enabled"]:
        lines.append("this Python runs without a GIL: python_threads is the row to read")
    if advice.numba_reason:
        lines.append(f"numba: {advice.numba_reason}")
    if advice.compile_s is not None:
        lines.append(f"numba compiled it in {report.format_seconds(advice.compile_s)}, not counted above")
    if advice.shipping is None:
        lines.append("the chunks or their results cannot be pickled: worker processes cannot get them")
    else:
        shipped = advice.shipping
        lines.append(
            f"a process task ships {shipped.chunk_bytes:,} bytes and back {shipped.result_bytes:,} "
            f"({report.format_seconds(shipped.seconds)} to pickle and unpickle)"
        )
    for executor, seconds in advice.break_even_s.items():
        lines.append(f"{executor} pay only for chunks of more than {report.format_seconds(seconds)} of work")
    return lines


ADVICE = {
    "numba_threads": "compile it with numba (nogil=True) and run it on threads",
    "numba": "compile it with numba; threads add nothing to that here",
    "python_threads": "run it on threads: the kernel leaves the GIL free",
    "joblib_processes": "run it in worker processes (joblib)",
}


def _recommendation(advice: Advice) -> str:
    run, cores = advice.run, advice.environment["cores"]["usable"]
    best, serial = _best(run), run.find("serial", 1)
    if best is None or serial is None or serial.median is None:
        return "nothing could be timed: see the table"
    speedup = run.speedup(best)
    if speedup is None or (speedup.low if speedup.low is not None else speedup.value) <= 1.0:
        per_chunk = serial.median.value / (run.tasks or 1)
        cheapest = min(advice.break_even_s.values(), default=None)
        why = (
            f"each chunk holds {report.format_seconds(per_chunk)} of work, too little to pay for a task"
            if cheapest is not None and per_chunk < cheapest
            else "see the evidence"
        )
        return f"stay serial: no variant beat it for sure on {cores} cores ({why})"
    words = ADVICE.get(best.variant, f"use {best.variant}")
    where = "on one thread" if best.workers == 1 else f"at {best.workers} workers on {cores} cores"
    return f"{words}: {_times(speedup)} serial {where}"


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
) -> Advice:
    """Measure what pays for ``kernel`` over ``chunks``: the ladder, checked and timed."""
    chunks = list(chunks)
    if not chunks:
        raise AdviceError("no chunks: the kernel needs at least one chunk to run on")
    label = str(name or getattr(kernel, "__qualname__", "kernel"))
    first = _deterministic(kernel, chunks, combine, label, rtol, atol)
    compiled, reason, compile_s = _compiled(kernel, chunks[0])
    options = options or RunOptions(workers=tuple(sorted({1, environment.usable_cores()})))
    module = sys.modules.get(kernel.__module__)
    path = Path(getattr(module, "__file__", None) or "<kernel>")
    recipe = _recipe(label, path, chunks, _ladder(kernel, compiled, combine), reason, (rtol, atol))
    run = run_recipe(recipe, options)
    env = {**environment.collect(), "memory_bandwidth_bytes_per_s": None}
    shipping = _shipping(chunks, first)
    overhead, break_even = ({}, {}) if options.check_only else _costs(max(options.workers), shipping)
    return Advice(
        name=label,
        run=run,
        environment=env,
        numba_reason=reason,
        compile_s=compile_s,
        shipping=shipping,
        overhead_s=overhead,
        break_even_s=break_even,
    )


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


def _costs(workers: int, shipping: Shipping | None) -> tuple[dict[str, float], dict[str, float]]:
    """Per-task overhead of each executor, and the work per chunk below which it cannot pay.

    With ``w`` workers a chunk of ``t`` seconds of work takes ``t / w + o`` on an executor
    whose tasks cost ``o`` each: it beats serial only once ``t > o * w / (w - 1)``.
    """
    if workers < 2:
        return {}, {}
    overhead = {"threads": _thread_overhead(workers), "processes": task_overhead("loky", workers, None)}
    per_task = dict(overhead)
    per_task["processes"] += shipping.seconds if shipping else 0.0
    return overhead, {executor: o * workers / (workers - 1) for executor, o in per_task.items()}


def _noop(value: int) -> int:
    return value


def _thread_overhead(workers: int, tasks: int = 2000) -> float:
    """Seconds per no-op task on a warm thread pool: what each threaded task pays besides its work."""
    with ThreadPoolExecutor(workers) as pool:
        calls = []
        for _ in range(4):
            start = time.perf_counter()
            list(pool.map(_noop, range(tasks)))
            calls.append((time.perf_counter() - start) / tasks)
    return statistics.median(calls[1:])


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("target", help="MODULE:KERNEL, MODULE a .py path or a dotted module name")
    parser.add_argument(
        "--chunks",
        default=None,
        help=f"the module's function returning the chunks (default: {DEFAULT_CHUNKS})",
    )
    parser.add_argument("--combine", default=None, help="the module's function reducing the list of results")
    parser.add_argument(
        "--workers", default=None, help="worker counts, e.g. 1,2 (default: 1 and the usable cores)"
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="one sample per step: a smoke test")
    mode.add_argument("--rigorous", action="store_true", help="more rounds, narrower intervals")
    parser.add_argument(
        "--rtol", type=float, default=0.0, help="relative tolerance for float results (default 0)"
    )
    parser.add_argument(
        "--atol", type=float, default=0.0, help="absolute tolerance for float results (default 0)"
    )
    parser.add_argument("--json", type=Path, help="write the advice and every measurement as JSON")
    parser.add_argument("--markdown", type=Path, help="write the advice and the table as Markdown")
    return parser


def _workers(text: str | None) -> tuple[int, ...]:
    if text is None:
        return tuple(sorted({1, environment.usable_cores()}))
    try:
        counts = tuple(sorted({int(part) for part in text.split(",")}))
    except ValueError:
        raise AdviceError(f"--workers: {text!r} is not a list of numbers like 1,2") from None
    if not counts or counts[0] < 1:
        raise AdviceError(f"--workers: {text!r}: counts must be 1 or more")
    return counts


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.json and args.markdown and args.json.resolve() == args.markdown.resolve():
            raise AdviceError(f"--json and --markdown name one file, {args.json}: give each its own")
        kernel, chunks, combine = load_target(args.target, args.chunks, args.combine)
        sampling = MODES["quick" if args.quick else "rigorous" if args.rigorous else "default"]
        options = RunOptions(workers=_workers(args.workers), sampling=sampling)
        advice = advise(kernel, chunks, combine=combine, options=options, rtol=args.rtol, atol=args.atol)
    except (AdviceError, RecipeError) as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    advice.environment |= {"command": shlex.join([*PROG.split(), *(sys.argv[1:] if argv is None else argv)])}
    advice.environment |= {"date_utc": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    print(advice.table())
    print()
    print(repr(advice))
    if args.json:
        record = json.loads(export.to_json(advice.environment, [advice.run], options.as_dict()))
        export.write_text(args.json, json.dumps(record | {"advice": advice.to_dict()}, indent=2) + "\n")
    if args.markdown:
        lines = [f"# {args.target}", "", f"**{advice.recommendation}**", ""]
        lines += [f"- {line}" for line in advice.evidence] + ["", advice.table(), ""]
        export.write_text(args.markdown, "\n".join(lines))
    return 0 if advice.run.ok else 1


if __name__ == "__main__":
    sys.exit(main())
