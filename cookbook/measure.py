"""Run a recipe's variants: check each against ``serial``, then time it."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from cookbook.agreement import Agreement, compare
from cookbook.backends import joblib_backend, on_backend, runs_on_backends, split
from cookbook.environment import available_memory, usable_cores
from cookbook.recipe import Recipe, is_single_threaded
from cookbook.results import Measurement, RecipeRun, Status
from cookbook.timing import shutdown_process_pool, time_repeats

__all__ = ["fill_steps", "inner_thread_limit", "memory_refusal", "plan", "run_recipe"]

OnStep = Callable[[str, str, int], None]
OnMeasured = Callable[[RecipeRun, Measurement], None]
MEMORY_HEADROOM = 0.8  # refuse a size that needs more than this share of the available memory


def plan(
    recipe: Recipe,
    variants: Sequence[str] | None,
    workers: Sequence[int],
    backends: Sequence[str] = ("loky",),
) -> list[tuple[str, int]]:
    """Return the (variant, workers) pairs to run, ``serial`` first.

    ``serial`` always runs, as the reference; one-thread variants run at 1
    worker; process variants run once per backend (``joblib_processes@dask``).
    """
    chosen = [v for v in recipe.variants if v != "serial" and (variants is None or v in variants)]
    steps = [("serial", 1)]
    for variant in chosen:
        counts = [1] if is_single_threaded(variant) else list(workers)
        names = [on_backend(variant, b) for b in backends] if runs_on_backends(variant) else [variant]
        steps += [(name, n) for name in names if name not in recipe.not_applicable for n in counts]
    return steps


def run_recipe(
    recipe: Recipe,
    *,
    size: str | int,
    variants: Sequence[str] | None,
    workers: Sequence[int],
    repeat: int,
    warmups: int,
    check_only: bool,
    backends: Sequence[str] = ("loky",),
    scheduler: str | None = None,
    on_step: OnStep = lambda recipe, variant, workers: None,
    on_measured: OnMeasured = lambda run, measurement: None,
    into: list[RecipeRun] | None = None,
    skip: frozenset[tuple[str, int]] = frozenset(),
) -> RecipeRun:
    """Check every planned variant against ``serial`` and, unless ``check_only``, time it.

    The run is appended to ``into`` before anything is measured, so that a
    run interrupted half-way still holds what it measured. Steps in ``skip``
    (measured by an earlier process) are left out; a skipped ``serial`` is
    still called once, untimed, for the reference answer.
    """
    n = recipe.size_of(size)
    run = RecipeRun(recipe.name, recipe.path, n, str(size), dict(recipe.not_applicable))
    if into is not None:
        into.append(run)
    steps = plan(recipe, variants, workers, backends)
    refusal = memory_refusal(recipe, n)
    if refusal:
        fill_steps(run, steps, "ERROR", refusal, skip=skip, on_step=on_step, on_measured=on_measured)
        return run
    try:
        data = recipe.make_input(n)
        small = recipe.sizes["small"]
        warm_data = None if check_only else data if n == small else recipe.make_input(small)
    except Exception as error:
        detail = f"make_input failed: {_describe(error)}"
        fill_steps(run, steps, "ERROR", detail, skip=skip, on_step=on_step, on_measured=on_measured)
        return run
    reference: Any = None
    reference_ok = False
    for variant, count in steps:
        if (variant, count) in skip:
            if variant == "serial":
                reference, reference_ok = recipe.variants["serial"](data, 1), True
            continue
        on_step(recipe.name, variant, count)
        if variant != "serial" and not reference_ok:
            run.measurements.append(Measurement(variant, count, "ERROR", "no reference: serial failed"))
            on_measured(run, run.measurements[-1])
            continue
        function, backend = split(variant)
        measurement, result = _measure(
            variant,
            count,
            call=partial(recipe.variants[function], data, count),
            warm_up=partial(recipe.variants[function], warm_data, count),
            check=partial(compare, reference, rtol=recipe.rtol, atol=recipe.atol),
            backend=backend,
            on_backend=partial(joblib_backend, backend, count, scheduler),
            repeat=repeat,
            warmups=warmups,
            check_only=check_only,
        )
        if variant == "serial":
            reference, reference_ok = result, measurement.status == "OK"
            run.bytes_per_call = _bytes_per_call(recipe, n, data, result)
        run.measurements.append(measurement)
        on_measured(run, measurement)
    return run


def fill_steps(
    run: RecipeRun,
    steps: Sequence[tuple[str, int]],
    status: Status,
    detail: str,
    *,
    skip: frozenset[tuple[str, int]] = frozenset(),
    on_step: OnStep = lambda recipe, variant, workers: None,
    on_measured: OnMeasured = lambda run, measurement: None,
) -> None:
    """Record every step not measured yet (nor in ``skip``) as ``status``: the steps that cannot run."""
    done = skip | {(m.variant, m.workers) for m in run.measurements}
    for variant, count in steps:
        if (variant, count) not in done:
            on_step(run.recipe, variant, count)
            run.measurements.append(Measurement(variant, count, status, detail))
            on_measured(run, run.measurements[-1])


def memory_refusal(recipe: Recipe, size: int) -> str | None:
    """Why a run at ``size`` would not fit in memory, or None when it would (or nobody can tell).

    Asked before ``make_input``, so the message comes before the machine swaps
    or the kernel's out-of-memory killer ends the process.
    """
    available = available_memory()
    if available is None:
        return None
    small = recipe.sizes["small"]
    try:
        if recipe.memory_bytes is not None:
            needed, how = int(recipe.memory_bytes(size)), "its memory_bytes"
        elif size > small:  # the small input scaled linearly: a floor, for recipes that do not say
            needed, how = _nbytes(recipe.make_input(small)) * size // small, "its small input, scaled"
        else:
            return None
    except Exception:  # the estimate failed: make_input will say what is wrong
        return None
    if needed <= MEMORY_HEADROOM * available:
        return None
    return (
        f"not run: size {size} needs about {_gib(needed)} ({how}) and {_gib(available)} is available; "
        "try a smaller --size"
    )


def _gib(n_bytes: float) -> str:
    return f"{n_bytes / 2**30:.1f} GiB"


def inner_thread_limit(variant: str, workers: int) -> int | None:
    """The BLAS and OpenMP threads each of a threaded variant's threads may use, or None for no limit.

    ``workers`` Python threads that each call multi-threaded BLAS would ask
    for ``workers x cores`` threads; like joblib in its worker processes, the
    inner pools get ``cores // workers`` (at least 1). Only ``*_threads``
    variants at 2 or more workers: a variant named otherwise (e.g.
    ``numpy_threads_oversubscribed``) keeps the libraries' defaults.
    """
    if not variant.endswith("_threads") or workers < 2:
        return None
    return max(1, usable_cores() // workers)


@contextlib.contextmanager
def _inner_threads(limit: int | None) -> Iterator[None]:
    if limit is None:
        yield
    else:
        with threadpool_limits(limits=limit):
            yield


def _bytes_per_call(recipe: Recipe, size: int, data: Any, result: Any) -> int | None:
    """The recipe's own ``bytes_moved(size)``, or at least its input and result read and written once."""
    if recipe.bytes_moved is not None:
        try:
            return int(recipe.bytes_moved(size))
        except Exception:
            return None
    return _nbytes(data) + _nbytes(result)


def _nbytes(value: Any) -> int:
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    if isinstance(value, (list, tuple)) and len(value) <= 1024:  # containers of arrays, not long lists
        return sum(_nbytes(item) for item in value)
    return 0


def _measure(
    variant: str,
    workers: int,
    *,
    call: Callable[[], Any],
    warm_up: Callable[[], Any],
    check: Callable[[Any], Agreement],
    backend: str | None,
    on_backend: Callable[[], contextlib.AbstractContextManager[str | None]],
    repeat: int,
    warmups: int,
    check_only: bool,
) -> tuple[Measurement, Any]:
    shutdown_process_pool()  # so that every process variant's first call starts its pool
    limit = inner_thread_limit(variant, workers)
    measurement = Measurement(variant, workers, "OK", inner_threads=limit, backend=backend)
    with _inner_threads(limit), contextlib.ExitStack() as step:
        try:
            start = time.perf_counter()  # the first call pays the pool's or the cluster's start
            measurement.cluster = step.enter_context(on_backend())
            result = call()
            measurement.first_s = time.perf_counter() - start
        except Exception as error:
            measurement.status, measurement.detail = "ERROR", _describe(error)
            return measurement, None
        if variant == "serial":
            measurement.max_error = 0.0
        else:
            agreement = check(result)
            measurement.max_error = agreement.max_error
            if not agreement.ok:
                measurement.status, measurement.detail = "MISMATCH", agreement.detail
                return measurement, None
        if not check_only:
            try:
                measurement.timing = time_repeats(call, warm_up=warm_up, warmups=warmups, repeat=repeat)
            except Exception as error:
                measurement.status, measurement.detail = "ERROR", f"in a timed repeat: {_describe(error)}"
    return measurement, result


def _describe(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__
