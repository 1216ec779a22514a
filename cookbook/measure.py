"""Run a recipe's variants: check each against ``serial``, then time them in interleaved rounds."""

from __future__ import annotations

import contextlib
import copy
import random
import sys
import time
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from cookbook.agreement import Agreement, compare
from cookbook.backends import Backend, joblib_backend
from cookbook.environment import available_memory, gil_enabled, usable_cores
from cookbook.options import RunOptions, Sampling
from cookbook.probes import children_cpu_s, gil_probe, pools_limited_in_a_new_thread
from cookbook.recipe import Kind, Recipe, reproducibility_problem, too_small
from cookbook.results import Measurement, RecipeRun, Status, step_name
from cookbook.stats import SHORT_SAMPLE, Interval, median_interval
from cookbook.timing import (
    calls_per_sample,
    process_pool_identity,
    shutdown_process_pool,
    take_sample,
    warm_up,
)

__all__ = [
    "Step",
    "fill_steps",
    "gil_reading",
    "in_plan_order",
    "inner_thread_limit",
    "memory_refusal",
    "new_run",
    "plan",
    "run_recipe",
]

Activate = Callable[[], contextlib.AbstractContextManager[Any]]
OnStep = Callable[[str, str, int, str], None]  # recipe, variant, workers, what it is doing
OnMeasured = Callable[[RecipeRun, Measurement], None]
GIL_PROBE_S = 0.05  # how long the GIL probe watches a step's calls, per reading
GIL_READINGS = 3  # readings per step, of which the lowest is reported (noise only raises one)
MEMORY_HEADROOM = 0.8  # refuse a size that needs more than this share of the available memory


@dataclass(frozen=True)
class Step:
    """One variant of a recipe at one worker count (on one backend, for process variants): a table row."""

    function: str  # the recipe's variant
    workers: int
    kind: Kind
    backend: str | None = None  # where a process variant's joblib calls run: loky or dask

    @property
    def variant(self) -> str:
        """The step's name in the tables: the variant, with @BACKEND off loky."""
        return step_name(self.function, self.backend)

    @property
    def key(self) -> tuple[str, int]:
        return (self.variant, self.workers)

    def measurement(self, status: Status = "OK", detail: str = "", **measured: Any) -> Measurement:
        """A row for this step, its kind recorded with it."""
        return Measurement(
            self.variant,
            self.workers,
            status,
            detail,
            backend=self.backend,
            executor=self.kind.executor,
            function=self.function,
            **measured,
        )


def plan(
    recipe: Recipe,
    variants: Sequence[str] | None,
    workers: Sequence[int],
    backends: Sequence[str] = ("loky",),
) -> list[Step]:
    """Return the steps to run, ``serial`` first.

    ``serial`` always runs, as the reference; one-thread variants run at 1
    worker; process variants run once per backend (``joblib_processes@dask``).
    """
    chosen = [v for v in recipe.variants if v != "serial" and (variants is None or v in variants)]
    steps = [Step("serial", 1, recipe.kind("serial"))]
    for variant in chosen:
        kind = recipe.kind(variant)
        counts = [1] if kind.executor == "one thread" else list(workers)
        on: list[str | None] = list(backends) if kind.executor == "processes" else [None]
        found = [Step(variant, n, kind, backend) for backend in on for n in counts]
        steps += [step for step in found if step.variant not in recipe.not_applicable]
    return steps


def run_recipe(
    recipe: Recipe,
    options: RunOptions,
    *,
    on_step: OnStep = lambda recipe, variant, workers, phase: None,
    on_measured: OnMeasured = lambda run, measurement: None,
    into: list[RecipeRun] | None = None,
    skip: frozenset[tuple[str, int]] = frozenset(),
    reference: Callable[[], Any] | None = None,
    keep_pools: bool = False,
    known_gil: Mapping[str, float] | None = None,
) -> RecipeRun:
    """Check every planned variant against ``serial`` and, unless ``check_only``, time it.

    Each step is first called (the call that is checked, and that pays JIT
    compile and pool start), then warmed up and calibrated, one step after
    the other; then all steps are sampled in rounds, one sample each per
    round in a new order every round, so that a machine that slows down for
    a minute slows every step alike. The run is appended to ``into`` before
    anything is measured, so that a run interrupted half-way still holds
    what it measured. Steps in ``skip`` (measured by an earlier process) are
    left out; a skipped ``serial`` is still called once, untimed, for the
    reference answer, unless ``reference`` gives it (a copy of a result the
    caller checked already). With ``keep_pools``, a process variant's first
    call uses the pool a check pass before it started, instead of its own.
    ``known_gil`` gives GIL readings made already, by variant, for its
    one-worker steps (advise reads its kernel's on one chunk).
    """
    n = recipe.size_of(options.size)
    sampling = None if options.check_only else options.sampling
    run = new_run(recipe, options)
    if into is not None:
        into.append(run)
    steps = plan(recipe, options.variants, options.workers, options.backends)
    refusal = too_small(recipe, n) or memory_refusal(recipe, n)
    if refusal:
        fill_steps(run, steps, "ERROR", refusal, skip=skip, on_step=on_step, on_measured=on_measured)
        return run
    try:
        data = recipe.make_input(n)
    except Exception as error:
        detail = f"make_input failed: {_describe(error)}"
        fill_steps(run, steps, "ERROR", detail, skip=skip, on_step=on_step, on_measured=on_measured)
        return run
    expected: Any = None
    reference_ok = False
    ready: list[_Step] = []
    with contextlib.ExitStack() as backends_open:  # dask clusters live until every round is done
        for planned in steps:
            if planned.key in skip:
                if planned.variant == "serial":
                    answer = reference or partial(recipe.variants["serial"], data, 1)
                    expected, reference_ok = answer(), True
                continue
            on_step(recipe.name, planned.variant, planned.workers, "first call and warm-up")
            if planned.variant != "serial" and not reference_ok:
                run.measurements.append(planned.measurement("ERROR", "no reference: serial failed"))
                on_measured(run, run.measurements[-1])
                continue
            step, result = _set_up(
                planned,
                variant_call=partial(recipe.variants[planned.function], data, planned.workers),
                check=partial(compare, expected, rtol=recipe.rtol, atol=recipe.atol),
                open_backend=partial(joblib_backend, planned.backend, planned.workers, options.scheduler),
                backends_open=backends_open,
                sampling=sampling,
                fresh_pool=not keep_pools,
                known_gil=known_gil,
            )
            if planned.variant == "serial":
                expected, reference_ok = result, step.measurement.status == "OK"
                run.bytes_per_call = _bytes_per_call(recipe, n, data, result)
                if reference_ok and not recipe.packaged:
                    _warn(reproducibility_problem(recipe, n, result))
            if step.active:
                ready.append(step)
            else:
                run.measurements.append(step.measurement)
                on_measured(run, step.measurement)
        if sampling is not None:
            _sample_in_rounds(recipe.name, ready, sampling, on_step)
    for step in ready:
        run.measurements.append(step.measurement)
        on_measured(run, step.measurement)
    in_plan_order(run, steps)
    return run


def _warn(problem: str | None) -> None:
    """Say a problem on stderr, which the isolated runner passes through to the user."""
    if problem:
        print(f"warning: {problem}", file=sys.stderr)


def new_run(recipe: Recipe, options: RunOptions) -> RecipeRun:
    """An empty run of ``recipe`` as ``options`` ask for it."""
    return RecipeRun(
        recipe.name,
        recipe.path,
        recipe.size_of(options.size),
        recipe.size_label(options.size),
        dict(recipe.not_applicable),
        sampling=None if options.check_only else options.sampling,
        tasks=recipe.tasks,
    )


def in_plan_order(run: RecipeRun, steps: Sequence[Step]) -> None:
    """Sort the measurements as ``plan`` ordered the steps: they end in any order, rounds last."""
    order = {step.key: index for index, step in enumerate(steps)}
    run.measurements.sort(key=lambda m: order.get((m.variant, m.workers), len(order)))


def fill_steps(
    run: RecipeRun,
    steps: Sequence[Step],
    status: Status,
    detail: str,
    *,
    skip: frozenset[tuple[str, int]] = frozenset(),
    on_step: OnStep = lambda recipe, variant, workers, phase: None,
    on_measured: OnMeasured = lambda run, measurement: None,
) -> None:
    """Record every step not measured yet (nor in ``skip``) as ``status``: the steps that cannot run."""
    done = skip | {(m.variant, m.workers) for m in run.measurements}
    for step in steps:
        if step.key not in done:
            on_step(run.recipe, step.variant, step.workers, "not run")
            run.measurements.append(step.measurement(status, detail))
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


def inner_thread_limit(step: Step) -> int | None:
    """The BLAS and OpenMP threads each of a threaded variant's threads may use, or None for no limit.

    ``workers`` Python threads that each call multi-threaded BLAS would ask
    for ``workers x cores`` threads; like joblib in its worker processes, the
    inner pools get ``cores // workers`` (at least 1). Only variants whose
    kind limits inner pools (``*_threads``), at 2 or more workers: the others
    (e.g. ``numpy_threads_oversubscribed``) keep the libraries' defaults.
    """
    workers = step.workers
    if not step.kind.limits_inner_pools or workers < 2:
        return None
    return max(1, usable_cores() // workers)


@contextlib.contextmanager
def _inner_threads(limit: int | None) -> Iterator[None]:
    """BLAS pools at ``limit`` threads: one setting for the whole process, so the variant's threads see it.

    OpenMP is left alone: its limit would hold only in this thread, not in
    the threads the variant starts.
    """
    if limit is None:
        yield
    else:
        with threadpool_limits(limits=limit, user_api="blas"):
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


@dataclass
class _Step:
    """A step being sampled: its measurement so far, and how to take its next sample."""

    measurement: Measurement
    call: Callable[[], Any]  # the variant on the data, with its backend active
    check: Callable[[Any], Agreement]
    inner_limit: int | None
    watches_pool: bool  # a loky process step: warm up again when loky replaces the pool's workers
    calls: int = 1  # calls per sample
    pool: Hashable = None  # the workers it was warmed in
    spent_s: float = 0.0
    active: bool = True
    last_result: Any = None  # of the last timed call: checked too, so a cached answer cannot pass


def _set_up(
    planned: Step,
    *,
    variant_call: Callable[[], Any],
    check: Callable[[Any], Agreement],
    open_backend: Callable[[], contextlib.AbstractContextManager[Backend]],
    backends_open: contextlib.ExitStack,
    sampling: Sampling | None,
    fresh_pool: bool = True,
    known_gil: Mapping[str, float] | None = None,
) -> tuple[_Step, Any]:
    """First call (timed apart), agreement check, then warm-up and calibration; inactive if it failed."""
    known_gil = known_gil or {}
    if fresh_pool:
        shutdown_process_pool()  # so that every process variant's first call starts its pool
    limit = inner_thread_limit(planned)
    measurement = planned.measurement(inner_threads=limit)
    watches_pool = planned.backend == "loky" and planned.workers > 1
    step = _Step(measurement, variant_call, check, limit, watches_pool=watches_pool)
    with _inner_threads(limit):
        try:
            start = time.perf_counter()  # the first call pays the pool's or the cluster's start
            opened = backends_open.enter_context(open_backend())
            step.call = partial(_activated, opened.activate, variant_call)
            measurement.cluster = opened.description
            children_before = children_cpu_s()
            call_start = time.perf_counter()
            result = step.call()
            measurement.first_s = time.perf_counter() - start
            measurement.in_caller = _ran_in_caller(planned, children_before, call_start)
            if limit is not None:
                measurement.limited_pools = pools_limited_in_a_new_thread(limit)
        except Exception as error:
            measurement.status, measurement.detail = "ERROR", _describe(error)
            step.active = False
            return step, None
        if planned.variant == "serial":
            measurement.max_error = 0.0
            result = copy.deepcopy(result)  # the reference, safe from variants that write into it
        else:
            agreement = check(result)
            measurement.max_error = agreement.max_error
            if not agreement.ok:
                measurement.status, measurement.detail = "MISMATCH", agreement.detail
                step.active = False
                return step, None
        if sampling is None:
            step.active = False
            return step, result
        try:
            measurement.warmup_s = _warm(step, sampling)
            read = known_gil.get(planned.variant) if planned.workers == 1 else None
            measurement.gil_held = read if read is not None else _gil_held(planned, step.call)
        except Exception as error:
            measurement.status, measurement.detail = "ERROR", f"in a warm-up call: {_describe(error)}"
            step.active = False
            return step, None
    step.calls = calls_per_sample(min(measurement.warmup_s or [measurement.first_s]), sampling.floor_s)
    return step, result


def _ran_in_caller(planned: Step, children_before: float | None, call_start: float) -> bool:
    """Whether a process variant's call left its work to this process (joblib runs n_jobs=1 so)."""
    if planned.kind.executor != "processes" or children_before is None:
        return False
    children_after = children_cpu_s()
    if children_after is None:
        return False
    return children_after - children_before < max(0.02, 0.1 * (time.perf_counter() - call_start))


def _gil_held(planned: Step, call: Callable[[], Any]) -> float | None:
    """The share of a call's time the GIL was held, for one-worker steps of threads (cookbook.probes).

    Not for process variants (one GIL each).
    """
    if planned.workers != 1 or planned.kind.executor == "processes":
        return None
    return gil_reading(call)


def gil_reading(call: Callable[[], Any]) -> float | None:
    """The lowest share of ``GIL_READINGS`` readings of ``call``'s time that held the GIL.

    None where there is no GIL, and on one core, where the probe's thread
    would wait for the CPU, not the GIL. BLAS is held to one thread
    meanwhile, so that the probe has a core of its own.
    """
    if not gil_enabled() or usable_cores() < 2:
        return None
    with threadpool_limits(limits=1, user_api="blas"):
        return round(gil_probe(call, min_s=GIL_PROBE_S, readings=GIL_READINGS).held, 3)


def _activated(activate: Activate, call: Callable[[], Any]) -> Any:
    with activate():
        return call()


def _warm(step: _Step, sampling: Sampling, at_least: int = 0) -> list[float]:
    """The warm-up calls (``max_warmup``, 0 where a check pass warmed the step, but ``at_least``)."""
    calls = max(at_least, sampling.max_warmup)
    times = warm_up(step.call, max_calls=calls, budget_s=sampling.budget_s)
    step.pool = process_pool_identity() if step.watches_pool else None
    return times


def _sample_in_rounds(recipe: str, steps: Sequence[_Step], sampling: Sampling, on_step: OnStep) -> None:
    """Sample every active step once per round, in a new order each round, until each is done."""
    for round_ in range(sampling.max_rounds):
        active = [step for step in steps if step.active]
        if not active:
            break
        random.Random(round_).shuffle(active)  # a varied but repeatable order
        for step in active:
            m = step.measurement
            on_step(recipe, m.variant, m.workers, f"round {round_ + 1}")
            try:
                with _inner_threads(step.inner_limit):
                    if step.watches_pool and process_pool_identity() != step.pool:
                        _warm(step, sampling, at_least=1)  # its new workers, warmed
                        m.rewarmed += 1
                    sample, step.last_result = take_sample(step.call, step.calls, round_)
            except Exception as error:
                m.status, m.detail = "ERROR", f"in a timed sample: {_describe(error)}"
                step.active = False
                continue
            m.samples.append(sample)
            step.spent_s += sample.seconds
            if sample.seconds < SHORT_SAMPLE * sampling.floor_s:  # calls got faster after the warm-up
                step.calls = calls_per_sample(sample.per_call_s, sampling.floor_s)
        for step in steps:
            if step.active or step.measurement.stopped == "ranked":  # a ranked step may be needed again
                _maybe_stop(step, sampling, steps)
    for step in steps:
        step.active = False
        _check_last(step)


def _check_last(step: _Step) -> None:
    """Check the result of the step's last timed call (serial's own result is the reference)."""
    m = step.measurement
    if m.status != "OK" or m.variant == "serial" or not m.samples:
        return
    agreement = step.check(step.last_result)
    step.last_result = None
    if not agreement.ok:
        m.status, m.max_error = "MISMATCH", agreement.max_error
        m.detail = f"the last timed call's result: {agreement.detail}"


def _maybe_stop(step: _Step, sampling: Sampling, steps: Sequence[_Step] = ()) -> None:
    """End a step once it has all its rounds, a settled rank, a narrow enough interval, or has spent its time.

    The rank among ``steps`` counts only with ``Sampling.ranked``; a step
    stopped for it goes on again if a later round unsettles its place.
    """
    fastest = _fastest(steps, sampling) if sampling.ranked else None
    m = step.measurement
    m.stopped = ""
    if len(m.samples) >= sampling.max_rounds:
        m.stopped = "rounds"
    elif len(m.samples) >= sampling.min_rounds:
        width = median_interval(m.per_call_s).relative_half_width
        if fastest is not None and _settled(step, fastest, steps, sampling):
            m.stopped = "ranked"
        elif width is not None and width <= sampling.precision:
            m.stopped = "precision"
        elif step.spent_s >= sampling.budget_s:
            m.stopped = "budget"
    step.active = not m.stopped


def _interval(step: _Step, sampling: Sampling) -> Interval | None:
    """The interval of a step's median call time, from its fewest rounds on; None before, or if it failed."""
    m = step.measurement
    if m.status != "OK" or len(m.samples) < sampling.min_rounds:
        return None
    interval = median_interval(m.per_call_s)
    return interval if interval.low is not None else None


def _fastest(steps: Sequence[_Step], sampling: Sampling) -> _Step | None:
    """The step with the lowest median call time, among those with an interval."""
    timed = [(interval.value, index) for index, s in enumerate(steps) if (interval := _interval(s, sampling))]
    return steps[min(timed)[1]] if timed else None


def _settled(step: _Step, fastest: _Step, steps: Sequence[_Step], sampling: Sampling) -> bool:
    """Slower than the fastest step beyond both intervals; for the fastest, every other step is so."""
    top = _interval(fastest, sampling)
    if top is None or top.high is None:
        return False
    if step is not fastest:
        own = _interval(step, sampling)
        return own is not None and own.low is not None and own.low > top.high
    others = [_interval(s, sampling) for s in steps if s is not fastest and s.measurement.status == "OK"]
    return bool(others) and all(o is not None and o.low is not None and o.low > top.high for o in others)


def _describe(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__
