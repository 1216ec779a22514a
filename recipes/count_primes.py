"""Count the primes below N by trial division: irregular work, a load-balance lesson.

Workload
--------
Every odd number below ``size`` is divided by 3, 5, 7, ... up to its square
root, or until a divisor is found. Composites mostly stop at a small divisor;
a prime costs about sqrt(n)/2 divisions, so the cost of a block of numbers
grows along the range. If the top half costs r times the bottom half, two
threads that each take one half reach an efficiency of at most
(1 + r) / (2 * r): the thread with the bottom half waits for the other. The
result is an integer, exact for every variant.

The range is cut into ``N_CHUNKS`` chunks handed out one at a time, so a
worker that finishes early takes the next one. ``numba_threads_static`` cuts
it instead into one contiguous block per worker, the split that a first
attempt usually makes: the worker with the top block works longest while the
others wait.

What the GIL does to each variant
---------------------------------
serial: the chunks one after the other in a pure-Python loop; the reference.

python_threads: chunks on a thread pool; the loop is bytecode, the GIL lets
one thread run at a time: no speedup.

numpy: each chunk as an array, divided by every prime up to sqrt(N) (a table
built in ``make_input``) with ``%``: no early exit, but each division is one
ufunc pass, on one thread.

numpy_threads: the same on a thread pool. Each pass is a ufunc call over the
chunk's numbers, which releases the GIL.

numba: the kernel compiled with ``numba.njit``, on one thread.

numba_threads: the kernel compiled with ``nogil=True``; many small chunks on
a thread pool, so both threads stay busy to the end.

numba_threads_static: the same kernel, one contiguous block per thread.

numba_prange: a ``numba.prange`` loop over the chunks. prange's default
schedule divides the iterations between the threads up front, in equal
contiguous shares: the static split again.

joblib_processes: the pure-Python kernel on chunks in loky worker processes;
each chunk sends two integers and gets one back.

python_interpreters: on Python 3.14 and later, the chunks on an
``InterpreterPoolExecutor``, whose workers are threads of this process that
each run an interpreter of its own, with its own GIL: the pure-Python loop
runs on every core. Each task's function and arguments are pickled into the
worker's interpreter. ``count_primes`` reads no global, so it travels as its
code; a function that read a module global would be pickled by name, and
each interpreter would import this module, which fails: NumPy and joblib
cannot be loaded in a subinterpreter.

Measured
--------
Every variant's figures, with their 95% intervals and a plot: ``docs/recipes/count_primes.md``,
rendered from the committed runs in ``results/``.

Free-threaded Python 3.14t
--------------------------
On a free-threaded build (3.14t) python_threads runs without a GIL, and scales fully only if its
threads share no object in the hot loop (docs/free-threaded.md). Its loop touches only integers it
makes itself (small ones are immortal), so the threads share no object and python_threads scales
once the GIL is gone. Its figures on 3.11, 3.14 and 3.14t: ``docs/recipes/count_primes.md``.

Run it: ``python recipes/count_primes.py``. ``python -m cookbook.run count_primes`` times it at the
medium size, where each call is short enough that the thread and process pools'
per-call costs weigh on their efficiency; ``--size large`` shows how they scale.
"""

from concurrent.futures import ThreadPoolExecutor
from math import isqrt

try:
    from concurrent.futures import InterpreterPoolExecutor
except ImportError:  # Python 3.13 and older: python_interpreters is skipped
    InterpreterPoolExecutor = None

import numpy as np
from joblib import Parallel, delayed

try:
    import numba
except ImportError:  # numba has no wheels for some Pythons (none for 3.13t): its variants are skipped
    numba = None

SIZES = {"small": 50_000, "medium": 150_000, "large": 1_000_000}
MIN_SIZE = 3  # the primes below 3: the smallest range that holds one
N_CHUNKS = 64  # many more chunks than workers: idle workers take the next one
N_TASKS = N_CHUNKS  # numba_threads_static instead cuts one block per worker


def memory_bytes(size):
    """Peak bytes: the bounds and primes up to sqrt(size) (int64, all serial needs) plus numpy's 18 bytes
    a number in one chunk (numbers, remainders, masks); each extra numpy_threads thread adds a chunk's.
    """
    chunk = -(-size // N_CHUNKS)  # numbers in the largest chunk
    return 8 * (N_CHUNKS + 1) + 8 * isqrt(size) + 18 * chunk


def count_primes(start, stop):
    """Count the primes in [start, stop) by trial division."""
    count = 0
    for n in range(max(start, 2), stop):
        if n < 4:
            count += 1
        elif n % 2 == 1:
            divisor = 3
            while divisor * divisor <= n and n % divisor != 0:
                divisor += 2
            if divisor * divisor > n:
                count += 1
    return count


if numba:  # without it, the numba variants are skipped (see below VARIANTS)
    count_primes_numba = numba.njit(nogil=True, cache=True)(count_primes)

    @numba.njit(parallel=True, cache=True)
    def _count_primes_prange(bounds):
        counts = np.zeros(len(bounds) - 1, dtype=np.int64)
        for chunk in numba.prange(len(bounds) - 1):
            counts[chunk] = count_primes_numba(bounds[chunk], bounds[chunk + 1])
        return counts.sum()


def count_primes_numpy(start, stop, small_primes):
    """Count the primes in [start, stop), dividing the whole chunk by each small prime."""
    numbers = np.arange(max(start, 2), stop)
    prime = np.ones(len(numbers), dtype=bool)
    for p in small_primes.tolist():
        prime &= (numbers % p != 0) | (numbers == p)
    return int(np.count_nonzero(prime))


def make_input(size, seed=0):
    """Return the chunk bounds and the primes up to sqrt(size), for the NumPy variants."""
    if size < MIN_SIZE:
        raise ValueError(
            f"size {size} is below this recipe's smallest size, {MIN_SIZE}: "
            "there is no prime below 2, so every variant would count 0"
        )
    bounds = np.linspace(0, size, N_CHUNKS + 1).astype(np.int64)
    limit = isqrt(size) + 1
    small_primes = np.array([p for p in range(2, limit) if all(p % d for d in range(2, isqrt(p) + 1))])
    return bounds, small_primes


def _chunks(bounds):
    return bounds[:-1].tolist(), bounds[1:].tolist()


def serial(data, n_workers):
    bounds, _ = data
    return sum(map(count_primes, *_chunks(bounds)))


def python_threads(data, n_workers):
    bounds, _ = data
    with ThreadPoolExecutor(n_workers) as pool:
        return sum(pool.map(count_primes, *_chunks(bounds)))


def numpy_(data, n_workers):
    bounds, small_primes = data
    starts, stops = _chunks(bounds)
    return sum(count_primes_numpy(a, b, small_primes) for a, b in zip(starts, stops, strict=True))


def numpy_threads(data, n_workers):
    bounds, small_primes = data
    starts, stops = _chunks(bounds)
    with ThreadPoolExecutor(n_workers) as pool:
        return sum(pool.map(count_primes_numpy, starts, stops, [small_primes] * len(starts)))


def numba_(data, n_workers):
    bounds, _ = data
    return sum(map(count_primes_numba, *_chunks(bounds)))


def numba_threads(data, n_workers):
    bounds, _ = data
    with ThreadPoolExecutor(n_workers) as pool:
        return sum(pool.map(count_primes_numba, *_chunks(bounds)))


def numba_threads_static(data, n_workers):
    bounds, _ = data
    blocks = np.linspace(bounds[0], bounds[-1], n_workers + 1).astype(np.int64)
    with ThreadPoolExecutor(n_workers) as pool:
        return sum(pool.map(count_primes_numba, *_chunks(blocks)))


def numba_prange(data, n_workers):
    bounds, _ = data
    numba.set_num_threads(n_workers)
    return int(_count_primes_prange(bounds))


def joblib_processes(data, n_workers):
    bounds, _ = data
    tasks = (delayed(count_primes)(a, b) for a, b in zip(*_chunks(bounds), strict=True))
    return sum(Parallel(n_jobs=n_workers, prefer="processes")(tasks))


def python_interpreters(data, n_workers):
    bounds, _ = data
    with InterpreterPoolExecutor(n_workers) as pool:
        return sum(pool.map(count_primes, *_chunks(bounds)))


VARIANTS = {
    "serial": serial,
    "python_threads": python_threads,
    "numpy": numpy_,
    "numpy_threads": numpy_threads,
    "numba": numba_,
    "numba_threads": numba_threads,
    "numba_threads_static": numba_threads_static,
    "numba_prange": numba_prange,
    "joblib_processes": joblib_processes,
    "python_interpreters": python_interpreters,
}
NOT_APPLICABLE = {}
if InterpreterPoolExecutor is None:
    NOT_APPLICABLE["python_interpreters"] = (
        "needs Python 3.14 or later (concurrent.futures.InterpreterPoolExecutor)"
    )
if numba is None:
    NOT_APPLICABLE |= {v: "numba is not installed for this Python" for v in VARIANTS if v.startswith("numba")}
VARIANTS = {v: run for v, run in VARIANTS.items() if v not in NOT_APPLICABLE}

if __name__ == "__main__":
    import os
    import time

    data = make_input(SIZES["small"])
    expected = serial(data, 1)
    print(f"{expected} primes below {SIZES['small']}")
    for name, variant in VARIANTS.items():
        variant(data, os.cpu_count() or 1)  # untimed: numba compiles and pools start on a first call
        start = time.perf_counter()
        result = variant(data, os.cpu_count() or 1)
        elapsed = time.perf_counter() - start
        print(f"{name:22} {elapsed:8.3f} s  agrees: {result == expected}")
