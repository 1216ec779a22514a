"""Price European call options with the Black-Scholes formula: heavy math per element.

Workload
--------
``size`` options, each with its own spot price, strike, time to expiry in
years, interest rate and volatility (drawn once in ``make_input``). Each
price takes a square root, a logarithm, an exponential and two evaluations
of the normal distribution function ``N(d) = erfc(-d / sqrt(2)) / 2`` (erfc
rather than ``1 + erf``, which cancels in the left tail). The result is the
float array of prices. It is CPU-bound: some twenty arithmetic operations
and five math-library functions per option, for 40 bytes read and 8
written, and every option is independent of the others.

The options are cut into ``N_CHUNKS`` chunks fixed by the workload, so a
chunk holds ``size / N_CHUNKS`` options; ``--size`` therefore sets the
length of each NumPy call, and shows from what length threading it pays.
What a call must outweigh is the thread pool's per-call overhead, so the
work per element counts, not the element count: each option costs about
thirty array operations, several of them math-library functions, where
threading ``np.sqrt`` costs one.

What the GIL does to each variant
---------------------------------
serial: the chunks one after the other, through the pure-Python kernel on
lists; the reference.

python_threads: chunks on a thread pool; the loop is bytecode, the GIL lets
one thread run at a time: no speedup.

numpy: each chunk as whole-array operations: ``np.log``, ``np.sqrt``,
``np.exp``, ``scipy.special.erfc`` and arithmetic, about thirty ufunc calls,
most allocating a temporary array, on one thread.

numpy_threads: the same on a thread pool. Each ufunc call releases the GIL
for its loop over the chunk (scipy.special's functions are NumPy ufuncs and
release it too), and takes it back between calls.

numba: the kernel compiled with ``numba.njit``, on one thread.

numba_threads: the kernel compiled with ``nogil=True``, chunks on a thread
pool, each writing its slice of one output array without the GIL.

numba_prange: a ``numba.prange`` loop over the chunks on numba's own threads.

joblib_processes: the pure-Python kernel in loky worker processes, one GIL
each. Every chunk's inputs are copied to a worker (pickled, or through a
memory-mapped file when over 1 MB) and its prices come back pickled; that
copying is small next to the interpreter's time per option.

python_interpreters: does not apply on any Python: its kernel reads the module
global math, so it would be pickled by name, and each interpreter would then
import this module, which imports NumPy, and NumPy cannot be loaded in a
subinterpreter (InterpreterPoolExecutor sends a function that reads no global
as its code, any other by name).

Measured
--------
Every variant's figures, with their 95% intervals and a plot: ``docs/recipes/black_scholes.md``,
rendered from the committed runs in ``results/``.

Free-threaded Python 3.14t
--------------------------
On a free-threaded build (3.14t) python_threads runs without a GIL, and scales fully only if its
threads share no object in the hot loop (docs/free-threaded.md). The kernel calls math.sqrt,
math.log, math.erfc and math.exp through the module at every option, and a free-threaded build
writes those shared function objects' reference counts from both threads. Binding the four to locals
gave no consistent gain in a probe (scripts/free_threading/shared_objects.py), so something else
weighs too; it was not found. Its figures on 3.11, 3.14 and 3.14t:
``docs/recipes/black_scholes.md``.

Run it: ``python recipes/black_scholes.py``. ``python -m cookbook.run black_scholes`` times it at the
medium size, where each call is short enough that the thread and process pools'
per-call costs weigh on their efficiency; ``--size large`` shows how they scale.
"""

import math
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise

import numpy as np
from joblib import Parallel, delayed
from scipy.special import erfc

try:
    import numba
except ImportError:  # numba has no wheels for some Pythons (none for 3.13t): its variants are skipped
    numba = None

SIZES = {"small": 50_000, "medium": 140_000, "large": 3_000_000}
MIN_SIZE = 1  # one option; below N_CHUNKS options some chunks are empty, which every variant handles
N_CHUNKS = 64  # fixed by the workload; each price is independent of the split anyway
N_TASKS = N_CHUNKS  # one task per chunk
# np.log, np.exp and scipy's erfc differ from the C library's math in the
# last bit for some inputs; the compiled kernel agrees with serial to the bit.
# A price is the difference of two terms as large as the spot and strike, so
# the error is absolute: numpy's prices differ from serial by at most 7.1e-14
# at sizes small..large (measured 2026-12-02), which deep out-of-the-money
# prices near 1e-170 see as relative 4e-11. 1e-12 leaves a margin of 14.
ATOL = 1e-12  # in the currency of the spot price (50 to 150)


def memory_bytes(size):
    """Peak memory a run at ``size`` needs: the input, then serial's prices as lists and as arrays.

    The input is 5 x size float64. Serial holds every chunk's prices as a list of Python floats
    (about 32 bytes a value, with its slot in the list), then as arrays, then joined.
    """
    return 5 * 8 * size + 32 * size + 2 * 8 * size


def call_prices(spot, strike, years, rate, vol, out):
    """Fill ``out[i]`` with the Black-Scholes price of the i-th European call."""
    for i in range(len(out)):
        s, k, t, r, v = spot[i], strike[i], years[i], rate[i], vol[i]
        root_t = math.sqrt(t)
        d1 = (math.log(s / k) + (r + 0.5 * v * v) * t) / (v * root_t)
        d2 = d1 - v * root_t
        n1 = 0.5 * math.erfc(-d1 / math.sqrt(2.0))
        n2 = 0.5 * math.erfc(-d2 / math.sqrt(2.0))
        out[i] = s * n1 - k * math.exp(-r * t) * n2
    return out


if numba:  # without it, the numba variants are skipped (see below VARIANTS)
    call_prices_numba = numba.njit(nogil=True, cache=True)(call_prices)

    @numba.njit(parallel=True, cache=True)
    def _call_prices_prange(spot, strike, years, rate, vol, bounds, out):
        for chunk in numba.prange(len(bounds) - 1):
            a, b = bounds[chunk], bounds[chunk + 1]
            call_prices_numba(spot[a:b], strike[a:b], years[a:b], rate[a:b], vol[a:b], out[a:b])
        return out


def call_prices_numpy(spot, strike, years, rate, vol, out):
    """Fill ``out`` like ``call_prices``, with whole-array operations."""
    root_t = np.sqrt(years)
    d1 = (np.log(spot / strike) + (rate + 0.5 * vol * vol) * years) / (vol * root_t)
    d2 = d1 - vol * root_t
    n1 = 0.5 * erfc(-d1 / np.sqrt(2.0))
    n2 = 0.5 * erfc(-d2 / np.sqrt(2.0))
    out[:] = spot * n1 - strike * np.exp(-rate * years) * n2
    return out


def call_prices_lists(options):
    """Price one chunk with the pure-Python kernel on lists (NumPy scalars are slow in a loop)."""
    return call_prices(*options.tolist(), [0.0] * options.shape[1])


def make_input(size, seed=0):
    """Return one row per input (spot, strike, years, rate, vol), one column per option."""
    if size < MIN_SIZE:
        raise ValueError(f"size {size} is below this recipe's smallest size, {MIN_SIZE}: no options to price")
    rng = np.random.default_rng(seed)
    return np.array(
        [
            rng.uniform(50.0, 150.0, size),  # spot
            rng.uniform(50.0, 150.0, size),  # strike
            rng.uniform(0.1, 2.0, size),  # years to expiry
            rng.uniform(0.0, 0.05, size),  # interest rate
            rng.uniform(0.1, 0.5, size),  # volatility
        ]
    )


def _bounds(options):
    return np.linspace(0, options.shape[1], N_CHUNKS + 1).astype(np.int64)


def _chunks(options):
    return [options[:, a:b] for a, b in pairwise(_bounds(options).tolist())]


def _fill(kernel, options, map_fn=map):
    """Run ``kernel`` on every chunk into one output array; ``map_fn`` decides where."""
    out = np.empty(options.shape[1])
    slices = [slice(a, b) for a, b in pairwise(_bounds(options).tolist())]
    list(map_fn(lambda rows: kernel(*options[:, rows], out[rows]), slices))
    return out


def serial(options, n_workers):
    return np.concatenate([call_prices_lists(chunk) for chunk in _chunks(options)])


def python_threads(options, n_workers):
    with ThreadPoolExecutor(n_workers) as pool:
        return np.concatenate(list(pool.map(call_prices_lists, _chunks(options))))


def numpy_(options, n_workers):
    return _fill(call_prices_numpy, options)


def numpy_threads(options, n_workers):
    with ThreadPoolExecutor(n_workers) as pool:
        return _fill(call_prices_numpy, options, pool.map)


def numba_(options, n_workers):
    return _fill(call_prices_numba, options)


def numba_threads(options, n_workers):
    with ThreadPoolExecutor(n_workers) as pool:
        return _fill(call_prices_numba, options, pool.map)


def numba_prange(options, n_workers):
    numba.set_num_threads(n_workers)
    return _call_prices_prange(*options, _bounds(options), np.empty(options.shape[1]))


def joblib_processes(options, n_workers):
    tasks = (delayed(call_prices_lists)(chunk) for chunk in _chunks(options))
    return np.concatenate(Parallel(n_jobs=n_workers, prefer="processes")(tasks))


VARIANTS = {
    "serial": serial,
    "python_threads": python_threads,
    "numpy": numpy_,
    "numpy_threads": numpy_threads,
    "numba": numba_,
    "numba_threads": numba_threads,
    "numba_prange": numba_prange,
    "joblib_processes": joblib_processes,
}
NOT_APPLICABLE = {
    "python_interpreters": (
        "its kernel reads the module global math, so it would be pickled by name, and each interpreter "
        "would then import this module, which imports NumPy, and NumPy cannot be loaded in a "
        "subinterpreter"
    ),
}
if numba is None:
    NOT_APPLICABLE |= {v: "numba is not installed for this Python" for v in VARIANTS if v.startswith("numba")}
    VARIANTS = {v: run for v, run in VARIANTS.items() if v not in NOT_APPLICABLE}

if __name__ == "__main__":
    import os
    import time

    data = make_input(SIZES["small"])
    expected = serial(data, 1)
    print(f"{SIZES['small']} calls, mean price {expected.mean():.4f}")
    for name, variant in VARIANTS.items():
        variant(data, os.cpu_count() or 1)  # untimed: numba compiles and pools start on a first call
        start = time.perf_counter()
        result = variant(data, os.cpu_count() or 1)
        elapsed = time.perf_counter() - start
        agrees = np.allclose(result, expected, rtol=0.0, atol=ATOL)
        print(f"{name:18} {elapsed:8.3f} s  agrees: {agrees}")
