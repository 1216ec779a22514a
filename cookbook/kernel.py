"""A user's kernel as a ladder of variants, and what one serial pass over its chunks shows.

``cookbook.advise`` never calls the user's kernel in its own process: a
runner (``cookbook.runner``, run by ``cookbook.isolate``) loads the kernel,
its chunks and its reducer from a :class:`Target`, runs :func:`examine` (one
timed serial pass, chunk by chunk), compiles it with numba, picks the chunks
that timed calls will run (:func:`sampled_count`) and runs those again
(:func:`check_again`: the results must repeat), and then measures the ladder
of :func:`ladder_recipe`. A hang or a crash costs the step it happened in,
and the command goes on.

What the serial pass records is measured, not guessed: each chunk's time
(load imbalance), the process's CPU and system time (a kernel that already
uses several cores; page faults), and, where numba compiles the kernel, what
converting its arguments costs a compiled call.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import importlib.util
import inspect
import math
import pickle
import re
import resource
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cookbook.agreement import compare
from cookbook.environment import watching_gil
from cookbook.recipe import Kind, MissingPackage, Recipe, RecipeError, import_file

__all__ = [
    "DEFAULT_CHUNKS",
    "FRESH_MEMORY_SHARE",
    "KINDS",
    "Conversion",
    "Examined",
    "KernelError",
    "Shipping",
    "Target",
    "check_again",
    "compile_kernel",
    "conversion",
    "examine",
    "fastest",
    "find",
    "imbalance_bound",
    "interpreters_reason",
    "interpreters_supported",
    "ladder_recipe",
    "make",
    "materialize",
    "numba_reason",
    "picked",
    "pool_round_trip",
    "sampled_count",
    "shipping",
    "timed",
]

Kernel = Callable[[Any], Any]
Chunks = list[Any]
Combine = Callable[[list[Any]], Any]
Variant = Callable[[Chunks, int], Any]

DEFAULT_CHUNKS = "make_chunks"
CONVERSION_CALLS = 5  # calls timed on each form of the argument; the fastest of them is kept
SAMPLED_CALL_S = 0.1  # a timed call runs enough of the chunks to last about this long serially
FASTEST_WORK_S = 0.002  # and to give the fastest rung's workers this much work each
BALANCE_SLACK = 0.15  # and to let a pool balance them about as well as all (chunk times are noisy)
FRESH_MEMORY_SHARE = 0.2  # a serial pass this much in the system takes fresh memory: time every chunk
KINDS = {  # what runs each rung's work: declared here, not read from the names
    "serial": Kind("one thread"),
    "python_threads": Kind("threads"),
    "joblib_processes": Kind("processes"),
    "numba": Kind("one thread"),
    "numba_threads": Kind("threads"),
    "python_interpreters": Kind("interpreters"),
}
INTERPRETERS_NEED = "needs Python 3.14 or later (concurrent.futures.InterpreterPoolExecutor)"


class KernelError(Exception):
    """What stops the ladder before it starts (the kernel raised, or its passes differ): one line."""


@dataclass(frozen=True)
class Target:
    """What the runner needs to rebuild the ladder: the kernel's names, or its objects pickled.

    Named (``module:kernel`` and its functions, from the command line), the
    runner imports them and makes the chunks itself. Given as objects (from
    Python), they are pickled by cloudpickle, which sends a notebook's
    functions by value.
    """

    name: str
    rtol: float
    atol: float
    sys_path: tuple[str, ...]  # the caller's: the runner imports the user's modules from it
    names: tuple[str, str | None, str | None] | None = None  # the kernel, its chunks and reducer
    payload: bytes | None = None  # or the kernel, chunks and reducer, pickled
    materialized: str | None = None  # which of the given chunks were iterators, made lists

    @classmethod
    def named(cls, name: str, names: tuple[str, str | None, str | None], rtol: float, atol: float) -> Target:
        return cls(name, rtol, atol, tuple(sys.path), names=names)

    @classmethod
    def of(
        cls,
        name: str,
        kernel: Kernel,
        chunks: Chunks,
        combine: Combine | None,
        rtol: float,
        atol: float,
        materialized: str | None = None,
    ) -> Target:
        """Pickle them; KernelError in one line if they cannot be."""
        import cloudpickle

        try:
            payload = cloudpickle.dumps((kernel, chunks, combine))
        except Exception as error:
            raise KernelError(
                f"{name}: the kernel, its chunks or its reducer cannot be pickled to run in a process of "
                f"its own ({type(error).__name__}: {error}); name them in a module for the command line"
            ) from None
        return cls(name, rtol, atol, tuple(sys.path), payload=payload, materialized=materialized)

    def load(self) -> tuple[Kernel, Chunks, Combine | None, str | None]:
        """In the runner: the kernel, the chunks (made here if named), the reducer, which were iterators."""
        sys.path.extend(p for p in self.sys_path if p not in sys.path)
        if self.names is not None:
            kernel, make_chunks, combine = find(*self.names)
            chunks, materialized = make(make_chunks)
            return kernel, chunks, combine, materialized
        assert self.payload is not None
        with watching_gil():  # unpickling imports the modules the functions come from
            kernel, chunks, combine = pickle.loads(self.payload)
        return kernel, chunks, combine, self.materialized


def find(
    target: str, chunks: str | None = None, combine: str | None = None
) -> tuple[Kernel, Callable[[], Any], Combine | None]:
    """The kernel named ``module:kernel``, its chunks function and its reducer; KernelError in one line.

    ``chunks`` and ``combine`` name a function of the kernel's module (``NAME``)
    or of another (``module:NAME``, ``path.py:NAME``). Nothing is called.
    """
    module_spec, _, kernel_name = target.rpartition(":")
    if not module_spec or not kernel_name:
        raise KernelError(f"{target}: expected MODULE:KERNEL, e.g. my_module.py:kernel")
    with watching_gil():
        module = _import_module(module_spec)
    kernel = _attribute(module, kernel_name, "the kernel, called as kernel(chunk)")
    make_chunks = _attribute(module, chunks or DEFAULT_CHUNKS, "a function returning the list of chunks")
    reducer = _attribute(module, combine, "a function of the list of results") if combine else None
    return kernel, make_chunks, reducer


def make(make_chunks: Callable[[], Any]) -> tuple[Chunks, str | None]:
    """Call the chunks function and make its chunks a list (``materialize``); KernelError in one line."""
    where = f"{getattr(make_chunks, '__qualname__', 'the chunks function')}()"
    try:
        made, materialized = materialize(make_chunks())
    except Exception as error:
        raise KernelError(f"making the chunks, {where}: {type(error).__name__}: {error}") from None
    if not made:
        raise KernelError("no chunks: the kernel needs at least one chunk to run on")
    return made, materialized


def materialize(chunks: Any) -> tuple[Chunks, str | None]:
    """The chunks as a list, each iterator among them made a list once; and what was made so, if any."""
    made = list(chunks)
    iterators = [i for i, chunk in enumerate(made) if isinstance(chunk, Iterator)]
    for i in iterators:
        made[i] = list(made[i])
    if not iterators:
        return made, None
    return made, (
        f"{len(iterators)} of the {len(made)} chunks were iterators (generators): each was made a list "
        "once, so that every variant gets the same items"
    )


def _import_module(spec: str) -> Any:
    """A module by path (``dir/module.py``) or by dotted name; KernelError in one line if it fails."""
    try:
        if spec.endswith(".py") or "/" in spec:
            if not Path(spec).is_file():
                raise KernelError(f"{spec}: no such file")
            return import_file(Path(spec))  # worker processes import it by name, as they import recipes
        return importlib.import_module(spec)
    except MissingPackage as error:  # "skipped" is a recipe's fate; here it is the user's module that fails
        raise KernelError(f"{spec}: cannot import it: {error.__cause__}") from None
    except (RecipeError, KernelError) as error:
        raise KernelError(str(error)) from None
    except Exception as error:  # the user's module failed to import: say why, in one line
        raise KernelError(f"{spec}: cannot import it: {type(error).__name__}: {error}") from None


def _attribute(module: Any, spec: str, what: str) -> Any:
    """``NAME`` in ``module``, or ``module:NAME`` or ``path.py:NAME``: a callable, or KernelError."""
    where, _, name = spec.rpartition(":")
    if where:
        module = _import_module(where)
    value = getattr(module, name, None)
    if not callable(value):
        found = "is not a function" if value is not None else "does not exist"
        raise KernelError(f"{module.__name__}.{name}: {found} (it should be {what})")
    return value


# --- what numba says, in the user's terms --------------------------------------------------------


@dataclass(frozen=True)
class Conversion:
    """What converting a compiled call's argument costs: numba does it holding the GIL."""

    argument: str  # numba's type of the chunk, e.g. "reflected list(float64)"
    call_s: float  # a compiled call on the chunk as given (the fastest of a few)
    array_call_s: float | None  # on the same chunk with its lists made NumPy arrays, if that agrees
    result: str  # numba's type of the result


def compile_kernel(
    kernel: Kernel, chunk: Any
) -> tuple[Kernel | None, str | None, float | None, float | None]:
    """``numba.njit(nogil=True)`` of the kernel compiled on one chunk, its compile time and a compiled call's.

    Or None and why numba cannot compile it.
    """
    try:
        import numba
    except ImportError:
        return None, "numba is not installed for this Python", None, None
    compiled = numba.njit(nogil=True)(kernel)
    start = time.perf_counter()
    try:
        compiled(chunk)
    except Exception as error:  # numba's TypingError and friends
        return None, numba_reason(kernel, error), None, None
    first = time.perf_counter() - start
    call_s = timed(lambda: compiled(chunk))
    return compiled, None, max(0.0, first - call_s), call_s


_UNTYPED = re.compile(r"Untyped global name '(\w+)'")
_UNSUPPORTED = re.compile(r"No implementation of function Function\(<(?:built-in )?function (\w+)")


def numba_reason(kernel: Kernel, error: BaseException) -> str:
    """Why numba cannot compile the kernel, and what would let it: read from the object numba named."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    said = next((line for line in lines if not line.startswith("Failed in")), type(error).__name__)
    untyped = _UNTYPED.search(said)
    if untyped:
        fix = _untyped(untyped[1], getattr(kernel, "__globals__", {}).get(untyped[1]))
    elif "not enough arguments" in said and _keyword_only(kernel):
        names = ", ".join(_keyword_only(kernel))
        fix = f"numba does not fill keyword-only parameters ({names}): make them ordinary parameters"
    elif unsupported := _UNSUPPORTED.search(said):
        name = unsupported[1]
        fix = f"it calls {name} with arguments numba does not support, or numba does not support {name}"
    elif "Cannot unify" in said or "can't unify" in said:
        fix = "a variable or container holds values of different types: numba needs one type for each"
    else:
        return f"numba cannot compile it in nopython mode: {said}"
    return f"numba cannot compile it: {fix} (numba: {said})"


def _untyped(name: str, value: Any) -> str:
    """What to do about a global that numba cannot type, by what it is."""
    if inspect.isclass(value):
        return f"it uses the class {name}: numba compiles functions of numbers and arrays, not classes"
    if inspect.ismodule(value):
        return f"it uses the module {name} in a way numba does not support"
    if callable(value):
        return f"it calls {name}, a plain Python function: decorate {name} with @numba.njit too"
    kind = type(value).__name__
    return f"it reads the global {name}, a {kind}: pass it as an argument, as a NumPy array or a tuple"


def _keyword_only(kernel: Kernel) -> list[str]:
    code = getattr(kernel, "__code__", None)
    if code is None:
        return []
    first = code.co_argcount + code.co_posonlyargcount
    return list(code.co_varnames[first : first + code.co_kwonlyargcount])


def conversion(compiled: Kernel, chunk: Any, result: Any, rtol: float, atol: float) -> Conversion | None:
    """Time a compiled call on the chunk as given and with its lists as arrays; None if nothing converts."""
    import numba

    typeof: Callable[[Any], Any] = numba.typeof
    argument, returned = str(typeof(chunk)), str(typeof(result))
    if not any(word in argument + returned for word in ("list", "List", "dict", "Dict", "set")):
        return None
    as_given = fastest(lambda: compiled(chunk), CONVERSION_CALLS)
    arrays = _arrays(chunk)
    array_call_s = None
    if arrays is not chunk:
        with contextlib.suppress(Exception):  # numba cannot take that form either: no figure
            if compare(result, compiled(arrays), rtol=rtol, atol=atol).ok:
                array_call_s = fastest(lambda: compiled(arrays), CONVERSION_CALLS)
    return Conversion(argument, as_given, array_call_s, returned)


def _arrays(value: Any) -> Any:
    """The value with its lists of numbers made NumPy arrays (inside tuples too); itself if none."""
    import numpy as np

    if isinstance(value, list) and value and all(isinstance(v, (int, float)) for v in value):
        return np.asarray(value)
    if isinstance(value, tuple):
        items = tuple(_arrays(v) for v in value)
        return items if any(a is not v for a, v in zip(items, value, strict=True)) else value
    return value


@dataclass(frozen=True)
class Shipping:
    """What a chunk and its result weigh pickled, and what pickling them in this process takes."""

    chunk_bytes: int
    result_bytes: int
    seconds: float  # pickling and unpickling one chunk and its result, median of the first chunks


def shipping(chunks: Chunks, results: list[Any]) -> Shipping | None:
    """Pickled sizes and round-trip time of the first chunks and their results; None if unpicklable."""
    try:
        times, sizes = [], []
        for chunk, result in list(zip(chunks, results, strict=True))[:8]:
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


# --- one serial pass, watched ---------------------------------------------------------------------


@dataclass
class Examined:
    """What one serial pass over the chunks showed, and whether numba compiles the kernel."""

    chunk_s: list[float]  # each chunk's time, in chunk order
    wall_s: float
    cpu_s: float  # this process's CPU time over the pass, every thread: above wall_s, it ran in parallel
    system_s: float  # of which in the kernel (page faults, allocation)
    page_faults: int
    sampled: int  # how many of the chunks each timed call runs (evenly spaced; all with --rigorous)
    results_none: bool  # every chunk's result was None: the agreement check compares nothing
    shipping: Shipping | None  # None: the chunks or results cannot be pickled
    pools: list[str] = field(default_factory=list)  # the native thread pools with more than one thread
    numba_parallel: bool = False  # numba's parallel runtime started during the pass
    materialized: str | None = None  # which chunks were iterators, made lists once
    numba_reason: str | None = None  # why numba does not compile it (None: it does)
    interpreters_reason: str | None = None  # why it cannot run in a subinterpreter (None: it can)
    compile_s: float | None = None
    conversion: Conversion | None = None
    gil_held: float | None = None  # serial's GIL reading, on its median chunk (None: no GIL, or one core)

    @property
    def system_share(self) -> float:
        """The share of the serial pass spent in the system (page faults, allocation)."""
        return self.system_s / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def cores_used(self) -> float:
        """The CPU the serial pass kept busy, in cores: near 1 for a kernel that is not parallel itself."""
        return self.cpu_s / self.wall_s if self.wall_s > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        import dataclasses

        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Examined:
        converted, shipped = data.get("conversion"), data.get("shipping")
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        fields["conversion"] = None if converted is None else Conversion(**converted)
        fields["shipping"] = None if shipped is None else Shipping(**shipped)
        return cls(**fields)


def examine(
    kernel: Kernel, chunks: Chunks, name: str, on_chunk: Callable[[int], None] = lambda index: None
) -> tuple[Examined, list[Any]]:
    """Run the kernel on each chunk, timed and watched; its results, in chunk order.

    ``on_chunk(index)`` is told each chunk as it starts. The timed calls are
    to run all the chunks, until ``check_again`` picks some.
    """
    before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    first, chunk_s = [], []
    for index, chunk in enumerate(chunks):
        on_chunk(index)
        began = time.perf_counter()
        first.append(_call(kernel, chunk, index, len(chunks), name))
        chunk_s.append(time.perf_counter() - began)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    examined = Examined(
        chunk_s=chunk_s,
        wall_s=wall,
        cpu_s=cpu,
        system_s=after.ru_stime - before.ru_stime,
        page_faults=after.ru_minflt - before.ru_minflt,
        sampled=len(chunks),
        results_none=all(result is None for result in first),
        shipping=shipping(chunks, first),
        pools=_parallel_pools(),
        numba_parallel=_numba_parallel_started(),
    )
    return examined, first


def check_again(
    kernel: Kernel,
    chunks: Chunks,
    first: list[Any],
    combine: Combine | None,
    examined: Examined,
    tol: tuple[float, float],
    *,
    sampled: int,
    name: str,
) -> None:
    """Run the ``sampled`` chunks that timed calls will run again: their results must be the first's.

    The first chunk is among them, so the one-time costs of its first call (a
    JIT) drop out of its time: each of them keeps its faster time.
    """
    again = picked(len(chunks), sampled)
    second = []
    for i in again:
        began = time.perf_counter()
        second.append(_call(kernel, chunks[i], i, len(chunks), name))
        examined.chunk_s[i] = min(examined.chunk_s[i], time.perf_counter() - began)
    finish = combine or (lambda results: results)
    same = compare(finish([first[i] for i in again]), finish(second), rtol=tol[0], atol=tol[1])
    if not same.ok:
        raise KernelError(f"{name} is not deterministic: two serial passes differ ({same.detail})")
    examined.sampled = sampled


def sampled_count(chunk_s: list[float], workers: int, speedup: float = 1.0, system_share: float = 0.0) -> int:
    """How many chunks a timed call runs: enough, and no more, for its figures to hold for all of them.

    Enough for a serial call of about ``SAMPLED_CALL_S``, and for the fastest
    rung (``speedup`` times serial's speed: numba's, measured on a chunk) to
    get ``FASTEST_WORK_S`` of work per worker, so that what a call costs
    besides its tasks (starting a thread pool, joblib's dispatch) weighs on it
    about as on all the chunks; and, for uneven chunks, enough for a pool to
    balance them about as well as all of them (``imbalance_bound``). A
    multiple of ``workers``, one each at least. All of them for a kernel
    whose serial pass spent ``FRESH_MEMORY_SHARE`` of its time in the system:
    what its page faults cost depends on what the calls before it left to
    the allocator, so a few chunks are not timed as all of them are.
    """
    n, per_chunk = len(chunk_s), statistics.median(chunk_s)  # not the mean: a first call's JIT stays out
    if n * per_chunk <= SAMPLED_CALL_S or system_share >= FRESH_MEMORY_SHARE:
        return n
    wanted = max(SAMPLED_CALL_S / per_chunk, workers * FASTEST_WORK_S * max(1.0, speedup) / per_chunk)
    count = min(n, max(workers, math.ceil(wanted / workers - 1e-9) * workers))  # 4.000...1 is 4
    balance = imbalance_bound(chunk_s, workers) - BALANCE_SLACK  # what all the chunks allow, about
    while count < n and imbalance_bound([chunk_s[i] for i in picked(n, count)], workers) < balance:
        count = min(n, count + workers)  # uneven chunks: a few of them would be more uneven than all
    return count


def picked(n: int, count: int) -> list[int]:
    """``count`` indices of ``n`` chunks, evenly spaced from the first."""
    return [i * n // count for i in range(count)]


def _call(kernel: Kernel, chunk: Any, index: int, count: int, name: str) -> Any:
    try:
        return kernel(chunk)
    except Exception as error:
        said = str(error).strip().splitlines()
        raise KernelError(
            f"{name} raised on chunk {index} (of {count}, counted from 0): "
            f"{type(error).__name__}{': ' + said[0] if said else ''}"
        ) from None


def _parallel_pools() -> list[str]:
    """The native thread pools loaded (BLAS, OpenMP) that may run more than one thread."""
    from threadpoolctl import threadpool_info

    pools = [pool for pool in threadpool_info() if pool["num_threads"] > 1]
    return sorted({f"{pool['internal_api']} ({pool['user_api']})" for pool in pools})


def _numba_parallel_started() -> bool:
    """Whether numba's parallel runtime (parallel=True, prange) has started its threads in this process."""
    module = sys.modules.get("numba.np.ufunc.parallel")
    return bool(getattr(module, "_is_initialized", False))


# --- subinterpreters ------------------------------------------------------------------------------


def interpreters_supported() -> bool:
    """Whether this Python has ``InterpreterPoolExecutor`` (3.14 and later)."""
    return importlib.util.find_spec("concurrent.interpreters") is not None


def _use_path(path: list[str]) -> None:
    """Give a new interpreter this one's sys.path: it starts from the default one, without the user's folders.

    It reads no global, so it goes to the interpreter as its code.
    """
    import sys

    sys.path[:] = path


def interpreters_reason(kernel: Kernel, chunk: Any) -> str | None:
    """Why ``kernel`` cannot run on ``chunk`` in a subinterpreter, in the user's terms; None if it can.

    One real call in a new interpreter tells, as the rung will make it: a
    function that reads no global goes there as its code, any other is
    pickled by name and its module imported there, as is every class the
    chunk holds; extension modules that do not support subinterpreters
    (NumPy's, for one) fail to load.
    """
    if not interpreters_supported():
        return INTERPRETERS_NEED
    from concurrent import interpreters  # type: ignore[attr-defined,unused-ignore]

    interpreter = interpreters.create()
    try:
        interpreter.call(_use_path, list(sys.path))
        interpreter.call(kernel, chunk)
    except interpreters.NotShareableError as error:
        cause = _first_error(str(error.__cause__ or error))
        if "func" in str(error):
            module = getattr(kernel, "__module__", None) or "its module"
            return (
                f"{module} cannot be imported in a subinterpreter ({cause}): a function that reads "
                "globals goes to each interpreter by name, and its module is imported there"
            )
        return f"its chunks cannot be unpickled in a subinterpreter ({cause})"
    except interpreters.ExecutionFailed as failed:
        return f"it raised in a subinterpreter: {_first_error(str(failed))}"
    finally:
        interpreter.close()
    return None


def _first_error(traceback_text: str) -> str:
    """The first ``SomeError: message`` line of a formatted traceback: the root of a chain."""
    found = re.search(r"^(\w*(?:Error|Exception)\b.*)$", traceback_text, re.MULTILINE)
    return found.group(1).strip() if found else traceback_text.strip().splitlines()[-1]


# --- the ladder -----------------------------------------------------------------------------------


def ladder_recipe(
    name: str,
    kernel: Kernel,
    chunks: Chunks,
    combine: Combine | None,
    numba_reason: str | None,
    interpreters_reason: str | None,
    tol: tuple[float, float],
    compiled: Kernel | None = None,
) -> Recipe:
    """The kernel's ladder as a recipe: serial, threads, processes, and numba unless ``numba_reason``,
    interpreters unless ``interpreters_reason`` (or this Python has none).

    The numba rungs call ``compiled``, else ``numba.njit(nogil=True)`` of the
    kernel, compiled at its first call.
    """
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
    if numba_reason is None:

        @functools.cache
        def jitted() -> Kernel:  # numba is imported where the rungs run, not where they are planned
            import numba

            return compiled or numba.njit(nogil=True)(kernel)

        def numba_(chunks: Chunks, n_workers: int) -> Any:
            return finish([jitted()(c) for c in chunks])

        def numba_threads(chunks: Chunks, n_workers: int) -> Any:
            with ThreadPoolExecutor(n_workers) as pool:
                return finish(list(pool.map(jitted(), chunks)))

        variants |= {"numba": numba_, "numba_threads": numba_threads}
    not_applicable = {v: numba_reason for v in ("numba", "numba_threads") if numba_reason}
    interpreters_reason = interpreters_reason or (None if interpreters_supported() else INTERPRETERS_NEED)
    if interpreters_reason is None:

        def python_interpreters(chunks: Chunks, n_workers: int) -> Any:
            from concurrent.futures import InterpreterPoolExecutor  # type: ignore[attr-defined,unused-ignore]

            with InterpreterPoolExecutor(
                n_workers, initializer=_use_path, initargs=(list(sys.path),)
            ) as pool:
                return finish(list(pool.map(kernel, chunks)))

        variants["python_interpreters"] = python_interpreters
    else:
        not_applicable["python_interpreters"] = interpreters_reason
    n = len(chunks)

    def make_input(size: int, seed: int = 0) -> Chunks:
        """The user's chunks, whatever the seed: all of them, or ``size`` of them evenly spaced."""
        return chunks if size >= n else [chunks[i] for i in picked(n, size)]

    return Recipe(
        name=name,
        path=_path_of(kernel),
        sizes={"small": n, "medium": n, "large": n},
        make_input=make_input,
        variants=variants,
        not_applicable=not_applicable,
        rtol=tol[0],
        atol=tol[1],
        summary=f"{name} on {n} chunks",
        min_size=1,
        kinds=KINDS,
    )


def _path_of(kernel: Kernel) -> Path:
    module = sys.modules.get(getattr(kernel, "__module__", "") or "")
    return Path(getattr(module, "__file__", None) or "<kernel>")


def imbalance_bound(chunk_s: list[float], workers: int) -> float:
    """The best efficiency ``workers`` can reach on chunks of these times, each chunk on one worker.

    A pool hands chunks out as workers free up (longest first at best), so a
    call lasts at least as long as its longest chunk and its fair share.
    """
    total = sum(chunk_s)
    if total <= 0 or workers < 1:
        return 1.0
    loads = [0.0] * workers
    for seconds in sorted(chunk_s, reverse=True):  # longest processing time first
        loads[loads.index(min(loads))] += seconds
    return total / (workers * max(loads))


def pool_round_trip(chunks: Chunks, results: list[Any] | None, workers: int, calls: int = 3) -> float:
    """Seconds per call that sends every chunk to loky's warm worker processes and its result back.

    The same ``Parallel`` call as ``joblib_processes``, with a task that does
    no work: what is left is the executor's real cost for these chunks (large
    arrays memory-mapped, the transfer, the workers' unpickling), which an
    in-process pickle round trip does not see. The fastest of ``calls``.
    """
    from joblib import Parallel, delayed

    given = results if results is not None else [None] * len(chunks)

    def one_call() -> None:
        Parallel(n_jobs=workers, prefer="processes")(
            delayed(_give_back)(c, r) for c, r in zip(chunks, given, strict=True)
        )

    one_call()  # the pool may be new: its start is not a task's cost
    return fastest(one_call, calls)


def _give_back(chunk: Any, result: Any) -> Any:
    return result


def fastest(call: Callable[[], Any], calls: int) -> float:
    """The fastest of ``calls`` timed calls: noise only slows a call."""
    return min(timed(call) for _ in range(calls))


def timed(call: Callable[[], Any]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start
