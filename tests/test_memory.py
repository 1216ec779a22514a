"""Every packaged recipe's ``memory_bytes`` against the peak that tracemalloc measures.

The peak is the larger of two, each traced on its own: ``make_input(size)`` and one
``serial(data, 1)`` call, and, where the recipe has a ``numpy`` variant, ``make_input(size)``
and one ``numpy(data, 1)`` call. tracemalloc sees Python objects and NumPy's array buffers
alike. Two sizes per recipe: ``small``, for how close the estimate is, and a second one, for
how it grows.
"""

import functools
import importlib
import tracemalloc

import pytest

from cookbook.recipe import load_all
from tests.conftest import sweep_all_but

RECIPES = {recipe.name: recipe for recipe in load_all()}
NAMES = list(RECIPES)
# One peak of Python objects (count_primes' serial) and one of NumPy buffers (stream_triad's): the rest sweep.
CHECKED = sweep_all_but(NAMES, ("count_primes", "stream_triad"))

MiB = 2**20
# Below this the interpreter's own allocations (frames, small lists, numpy scalars) are a
# good part of the peak: the estimate then only has to stay small.
FLOOR = MiB
# The growth check clamps both figures at this, so that a recipe whose peak is a few
# kilobytes of overhead at both sizes compares 1 with 1.
GROWTH_FLOOR = 16 * 1024
# How far the two growths may differ. Sizes a factor 2 apart make a linear estimate of a
# size x size peak grow 2x where the peak grows 4x: a factor 2 here would let that pass.
GROWTH_TOLERANCE = 1.5

# The second size is 2 x small except where listed. tracemalloc makes every allocation
# 10-25x slower and serial mostly allocates a Python float or int per step, so where 2 x
# small would be slow traced, a smaller size checks the growth instead; file_checksums goes
# 4x larger, past its read buffer. (fft_batch fails below N_CHUNKS = 16 signals.) count_primes
# keeps 2 x small: below that its numpy peak is under GROWTH_FLOOR. pairwise_distances goes 3x
# smaller: at 300 to 2,400 points NumPy adds ~120 KiB of broadcasting buffers to numpy's peak,
# which flattens its growth from 300 until a serial-only (linear) estimate fails only just.
OTHER_SIZE = {
    "black_scholes": 25_000,
    "countdown": 5_000,
    "fft_batch": 16,
    "file_checksums": 32,
    "mandelbrot": 40,
    "matmul_blas": 20,
    "monte_carlo_pi": 20_000,
    "pairwise_distances": 200,
    "quad_callback": 1_000,
    "sort_chunks": 40_000,
    "stream_triad": 100_000,
}


def sizes(name):
    small = RECIPES[name].sizes["small"]
    return small, OTHER_SIZE.get(name, 2 * small)


def estimate(name, size):
    return importlib.import_module(f"recipes.{name}").memory_bytes(size)


@functools.cache
def traced_peak(name, size):
    """Return the larger peak of ``make_input(size)`` and one serial call, or one numpy call."""
    variants = RECIPES[name].variants
    return max(traced_run(name, size, variant) for variant in ("serial", "numpy") if variant in variants)


def traced_run(name, size, variant):
    """Return the peak traced bytes of ``make_input(size)`` and one ``variant(data, 1)`` call."""
    recipe = RECIPES[name]
    data = None
    tracemalloc.start()
    try:
        data = recipe.make_input(size)
        recipe.variants[variant](data, 1)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        # file_checksums' files go with the data object (weakref.finalize); a data
        # object with a close() or cleanup() gets it called.
        for method in ("close", "cleanup"):
            if callable(getattr(data, method, None)):
                getattr(data, method)()
        del data


@pytest.mark.parametrize("which", [0, 1], ids=["small", "other"])
@pytest.mark.parametrize("name", CHECKED)
def test_estimate_is_near_the_traced_peak(name, which):
    size = sizes(name)[which]
    guess, peak = estimate(name, size), traced_peak(name, size)
    assert isinstance(guess, int) and guess > 0, f"{name}: memory_bytes({size}) = {guess!r}"
    detail = f"{name} at {size}: estimate {guess:,} bytes, traced peak {peak:,}"
    if peak < FLOOR:
        assert guess <= 4 * FLOOR, detail
    else:
        assert 0.5 <= guess / peak <= 4, detail


@pytest.mark.parametrize("name", CHECKED)
def test_estimate_grows_like_the_traced_peak(name):
    small, other = sizes(name)

    def growth(measure):
        return max(measure(name, other), GROWTH_FLOOR) / max(measure(name, small), GROWTH_FLOOR)

    estimated, measured = growth(estimate), growth(traced_peak)
    assert 1 / GROWTH_TOLERANCE <= estimated / measured <= GROWTH_TOLERANCE, (
        f"{name}, size {small} to {other}: estimate x{estimated:.2f}, traced peak x{measured:.2f}"
    )
