"""The parallel variants really run on several threads or processes at once.

Each variant's kernel is swapped for one that waits until two callers are
inside it together (see concurrency_probe.py): a variant that runs its
chunks one after another fails with a timeout. Compiled kernels cannot be
wrapped from Python, so for them the test checks the compile flags that let
them run in parallel (``nogil``, ``parallel``).
"""

import sys

import numba
import pytest

from cookbook.recipe import is_single_threaded, load, load_all
from cookbook.timing import shutdown_process_pool
from tests.concurrency_probe import OverlapBarrier

# The module-level function each variant hands to its threads or processes.
KERNELS = {
    "countdown": {
        "python_threads": "countdown",
        "numba_threads": "countdown_numba",
        "joblib_processes": "countdown",
    },
    "monte_carlo_pi": {
        "python_threads": "count_inside",
        "numpy_threads": "count_inside_numpy",
        "numba_threads": "count_inside_numba",
        "joblib_processes": "count_inside",
    },
    "count_primes": {
        "python_threads": "count_primes",
        "numpy_threads": "count_primes_numpy",
        "numba_threads": "count_primes_numba",
        "numba_threads_static": "count_primes_numba",
        "joblib_processes": "count_primes",
    },
    "mandelbrot": {
        "python_threads": "escape_counts",
        "numpy_threads": "escape_counts_numpy",
        "numba_threads": "escape_counts_numba",
        "joblib_processes": "_band_counts",
    },
}
PRANGE_KERNELS = {
    "countdown": "_countdown_prange",
    "count_primes": "_count_primes_prange",
    "monte_carlo_pi": "_count_inside_prange",
    "mandelbrot": "_escape_counts_prange",
}
CASES = [(name, variant) for name, kernels in KERNELS.items() for variant in kernels]


def test_every_parallel_variant_is_probed():
    for recipe in load_all():
        parallel = {v for v in recipe.variants if not is_single_threaded(v)}
        probed = set(KERNELS.get(recipe.name, {})) | (
            {"numba_prange"} if recipe.name in PRANGE_KERNELS else set()
        )
        assert parallel == probed, f"{recipe.name}: add its kernels to KERNELS in {__file__}"


@pytest.mark.parametrize(("name", "variant"), CASES)
def test_variant_runs_two_calls_at_once(name, variant, tmp_path, monkeypatch):
    recipe = load(name)
    module = sys.modules[f"recipes.{name}"]
    kernel_name = KERNELS[name][variant]
    distinct = "process" if variant.endswith("_processes") else "thread"
    probe = OverlapBarrier(getattr(module, kernel_name), tmp_path, parties=2, distinct=distinct)
    monkeypatch.setattr(module, kernel_name, probe)
    shutdown_process_pool()  # new workers import this test's probe module afresh
    data = recipe.make_input(recipe.sizes["small"])
    recipe.variants[variant](data, 2)


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_compiled_kernels_can_run_in_parallel(name):
    module = sys.modules[f"recipes.{name}"]
    assert getattr(module, KERNELS[name]["numba_threads"]).targetoptions.get("nogil") is True
    assert getattr(module, PRANGE_KERNELS[name]).targetoptions.get("parallel") is True
    recipe = load(name)
    recipe.variants["numba_prange"](recipe.make_input(recipe.sizes["small"]), 2)
    assert numba.threading_layer() in ("tbb", "omp", "workqueue")  # raises if no parallel region ran
