"""The parallel variants really run on several threads or processes at once.

Each variant's kernel is swapped for one that waits until two callers are
inside it together (see concurrency_probe.py): a variant that runs its
chunks one after another fails with a timeout. Compiled kernels cannot be
wrapped from Python, so for them the test checks the compile flags that let
them run in parallel (``nogil``, ``parallel``).
"""

import importlib
import sys

import numba
import pytest

from cookbook.recipe import is_single_threaded, load, load_all
from cookbook.timing import shutdown_process_pool
from tests.concurrency_probe import OverlapBarrier

# The module-level function each variant hands to its threads or processes.
KERNELS = {
    "black_scholes": {
        "python_threads": "call_prices",
        "numpy_threads": "call_prices_numpy",
        "numba_threads": "call_prices_numba",
        "joblib_processes": "call_prices_lists",
    },
    "count_primes": {
        "python_threads": "count_primes",
        "numpy_threads": "count_primes_numpy",
        "numba_threads": "count_primes_numba",
        "numba_threads_static": "count_primes_numba",
        "joblib_processes": "count_primes",
    },
    "countdown": {
        "python_threads": "countdown",
        "numba_threads": "countdown_numba",
        "joblib_processes": "countdown",
    },
    "fft_batch": {
        "python_threads": "fft_chunk",
        "numpy_threads": "fft_numpy",
        "numba_threads": "fft_rows_numba",
        "scipy_threads": "fft_scipy",
        "joblib_processes": "fft_chunk",
    },
    "file_checksums": {
        "python_threads": "checksum",
        "python_threads_small_blocks": "checksum",
        "joblib_processes": "checksum",
    },
    "heat_stencil": {
        "python_threads": "heat_rows",
        "python_threads_pinned": "heat_rows",
        "numpy_threads": "heat_rows_numpy",
        "numba_threads": "heat_rows_numba",
        "scipy_threads": "heat_rows_scipy",
        "joblib_processes": "_band_step",
        "memmap_processes": "_band_step_shared",
    },
    "histogram": {
        "python_threads": "bin_counts",
        "numpy_threads": "bin_counts_numpy",
        "numba_threads": "bin_counts_numba",
        "joblib_processes": "_python_counts",
    },
    "mandelbrot": {
        "python_threads": "escape_counts",
        "numpy_threads": "escape_counts_numpy",
        "numba_threads": "escape_counts_numba",
        "joblib_processes": "_band_counts",
    },
    "matmul_blas": {
        "python_threads": "product_python",
        "numpy_threads": "product_blas",
        "numpy_threads_oversubscribed": "product_blas",
        "numpy_processes": "product_blas",
        "numba_threads": "matmul_numba",
        "joblib_processes": "product_python",
    },
    "monte_carlo_pi": {
        "python_threads": "count_inside",
        "numpy_threads": "count_inside_numpy",
        "numba_threads": "count_inside_numba",
        "joblib_processes": "count_inside",
    },
    "pairwise_distances": {
        "python_threads": "nearest_distances",
        "numpy_threads": "nearest_distances_numpy",
        "numba_threads": "nearest_distances_numba",
        "scipy_threads": "nearest_distances_scipy",
        "joblib_processes": "block_distances",
    },
    "quad_callback": {
        "python_threads": "integrate_chunk",
        "numpy_threads": "fixed_rule_numpy",
        "numba_threads": "integrate_chunk",
        "joblib_processes": "integrate_chunk",
    },
    "sort_chunks": {
        "python_threads": "sort_run",
        "numpy_threads": "sort_run_numpy",
        "numba_threads": "sort_run_numba",
        "joblib_processes": "_python_sort",
    },
    "stream_triad": {
        "python_threads": "triad_sum",
        "numpy_threads": "triad_sum_numpy",
        "numba_threads": "triad_sum_numba",
        "joblib_processes": "triad_sum_lists",
        "numpy_processes": "triad_sum_new",
    },
}
PRANGE_KERNELS = {
    "black_scholes": "_call_prices_prange",
    "count_primes": "_count_primes_prange",
    "countdown": "_countdown_prange",
    "fft_batch": "_fft_rows_prange",
    "heat_stencil": "_heat_prange",
    "histogram": "_bin_counts_prange",
    "mandelbrot": "_escape_counts_prange",
    "matmul_blas": "_matmul_prange",
    "monte_carlo_pi": "_count_inside_prange",
    "pairwise_distances": "_nearest_distances_prange",
    "sort_chunks": "_sort_chunks_prange",
    "stream_triad": "_triad_sum_prange",
}
# Variants that hand the parallelism to a library call: (module, function, keyword that sets its threads).
DELEGATED = {
    "fft_batch": {"scipy_workers": ("scipy.fft", "fft", "workers")},
}
CASES = [(name, variant) for name, kernels in KERNELS.items() for variant in kernels]


def test_every_parallel_variant_is_probed():
    for recipe in load_all():
        parallel = {v for v in recipe.variants if not is_single_threaded(v)}
        probed = set(KERNELS.get(recipe.name, {})) | set(DELEGATED.get(recipe.name, {}))
        if recipe.name in PRANGE_KERNELS:
            probed.add("numba_prange")
        assert parallel == probed, f"{recipe.name}: list its parallel kernels in {__file__}"


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


@pytest.mark.parametrize(
    ("name", "variant"), [(name, variant) for name, variants in DELEGATED.items() for variant in variants]
)
def test_delegated_variant_asks_the_library_for_its_workers(name, variant, monkeypatch):
    module_name, function_name, keyword = DELEGATED[name][variant]
    library = importlib.import_module(module_name)
    real, asked = getattr(library, function_name), []

    def spy(*args, **kwargs):
        asked.append(kwargs.get(keyword))
        return real(*args, **kwargs)

    monkeypatch.setattr(library, function_name, spy)
    recipe = load(name)
    recipe.variants[variant](recipe.make_input(recipe.sizes["small"]), 2)
    assert asked and set(asked) == {2}


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_compiled_kernels_can_run_in_parallel(name):
    module = sys.modules[f"recipes.{name}"]
    compiled = [k for k in KERNELS[name].values() if hasattr(getattr(module, k), "targetoptions")]
    assert all(getattr(module, k).targetoptions.get("nogil") is True for k in compiled)
    if name not in PRANGE_KERNELS:
        return
    assert getattr(module, PRANGE_KERNELS[name]).targetoptions.get("parallel") is True
    recipe = load(name)
    recipe.variants["numba_prange"](recipe.make_input(recipe.sizes["small"]), 2)
    assert numba.threading_layer() in ("tbb", "omp", "workqueue")  # raises if no parallel region ran
