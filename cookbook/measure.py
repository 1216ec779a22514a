"""Run a recipe's variants: check each against ``serial``, then time it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import numpy as np

from cookbook.agreement import Agreement, compare
from cookbook.recipe import Recipe, is_single_threaded
from cookbook.results import Measurement, RecipeRun
from cookbook.timing import shutdown_process_pool, time_call, time_repeats

__all__ = ["plan", "run_recipe"]

OnStep = Callable[[str, str, int], None]


def plan(recipe: Recipe, variants: Sequence[str] | None, workers: Sequence[int]) -> list[tuple[str, int]]:
    """Return the (variant, workers) pairs to run, ``serial`` first.

    ``serial`` always runs, as the reference; one-thread variants run at 1 worker.
    """
    chosen = [v for v in recipe.variants if v != "serial" and (variants is None or v in variants)]
    steps = [("serial", 1)]
    for variant in chosen:
        counts = [1] if is_single_threaded(variant) else list(workers)
        steps += [(variant, n) for n in counts]
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
    on_step: OnStep = lambda recipe, variant, workers: None,
    into: list[RecipeRun] | None = None,
) -> RecipeRun:
    """Check every planned variant against ``serial`` and, unless ``check_only``, time it.

    The run is appended to ``into`` before anything is measured, so that a
    run interrupted half-way still holds what it measured.
    """
    n = recipe.size_of(size)
    run = RecipeRun(recipe.name, recipe.path, n, str(size), dict(recipe.not_applicable))
    if into is not None:
        into.append(run)
    steps = plan(recipe, variants, workers)
    try:
        data = recipe.make_input(n)
        small = recipe.sizes["small"]
        warm_data = None if check_only else data if n == small else recipe.make_input(small)
    except Exception as error:
        for variant, count in steps:
            on_step(recipe.name, variant, count)
            run.measurements.append(
                Measurement(variant, count, "ERROR", f"make_input failed: {_describe(error)}")
            )
        return run
    reference: Any = None
    for variant, count in steps:
        on_step(recipe.name, variant, count)
        if variant != "serial" and run.measurements[0].status != "OK":
            run.measurements.append(Measurement(variant, count, "ERROR", "no reference: serial failed"))
            continue
        measurement, result = _measure(
            variant,
            count,
            call=partial(recipe.variants[variant], data, count),
            warm_up=partial(recipe.variants[variant], warm_data, count),
            check=partial(compare, reference, rtol=recipe.rtol, atol=recipe.atol),
            repeat=repeat,
            warmups=warmups,
            check_only=check_only,
        )
        if variant == "serial":
            reference = result
            run.bytes_per_call = _bytes_per_call(recipe, n, data, result)
        run.measurements.append(measurement)
    return run


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
    repeat: int,
    warmups: int,
    check_only: bool,
) -> tuple[Measurement, Any]:
    shutdown_process_pool()  # so that every process variant's first call starts its pool
    try:
        result, first_s = time_call(call)
    except Exception as error:
        return Measurement(variant, workers, "ERROR", _describe(error)), None
    measurement = Measurement(variant, workers, "OK", first_s=first_s)
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
