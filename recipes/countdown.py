"""Count down from N, several times: the classic proof of the GIL.

Workload
--------
``N_TASKS`` independent countdowns of ``size`` steps each. Every step is a
few integer operations on Python objects, so the work is pure interpreter
time: CPU-bound, no memory traffic, no library call that could drop the GIL.
A bare ``while n > 0: n -= 1`` would not do for numba: LLVM replaces that loop
with its closed form, so the compiled call takes no longer for a larger n.
So each step also folds ``n`` into a checksum modulo a prime, a recurrence
with no closed form; the checksums are the result (exact integers).

What the GIL does to each variant
---------------------------------
serial: the countdowns one after the other on one core; the reference.

python_threads: the countdowns on a thread pool. Only the thread holding the
GIL runs bytecode, so threads take turns and the total time stays that of
``serial`` (the classic result: two threads are no faster than one after the
other).

python_threads_local: the same, with ``MODULUS`` passed in as an argument, so
the loop reads a local. With the GIL it changes nothing. On a free-threaded build (3.14t) every read of a
shared object writes its reference count, and the global ``MODULUS`` (an int
above 256, so not immortal) is read at every step by both threads: that
cache line then bounces between the cores. A local takes the shared object
out of the loop.

numpy_threads: does not apply. A countdown is a chain of dependent steps;
NumPy has no operation for it, and a Python loop over NumPy scalars would
hold the GIL like ``python_threads``, only slower.

numba: the same function compiled with ``numba.njit``, on one thread. It
shows what compilation alone buys before any parallelism.

numba_threads: the compiled function with ``nogil=True`` on a thread pool.
The GIL is released for the whole countdown, so threads run at once.

numba_prange: one compiled function whose ``numba.prange`` loop hands the
countdowns to numba's own thread pool, with less overhead than Python threads.

joblib_processes: the pure-Python countdowns in joblib worker processes
(loky). Each process has its own interpreter and GIL, so they run at once; the
price is process start-up and pickling arguments and results.

python_interpreters: on Python 3.14 and later, the countdowns on an
``InterpreterPoolExecutor``, whose workers are threads of this process that
each run an interpreter of its own, with its own GIL, so they run at once
without starting processes. Each task's function and arguments are pickled
into the worker's interpreter. ``countdown_local`` reads no global, so it
travels as its code. ``countdown`` reads ``MODULUS``, so it would be pickled
by name, and each interpreter would import this module, which fails: NumPy
and joblib cannot be loaded in a subinterpreter.

Measured
--------
Every variant's figures, with their 95% intervals and a plot: ``docs/recipes/countdown.md``,
rendered from the committed runs in ``results/``.

Free-threaded Python 3.14t
--------------------------
On a free-threaded build (3.14t) python_threads runs without a GIL, and scales fully only if its
threads share no object in the hot loop (docs/free-threaded.md). The loop reads the global MODULUS
(1,000,003: an int above 256, so not immortal) at every step, and a free-threaded build writes its
reference count from both threads; python_threads_local, with MODULUS passed in as an argument,
shows what that costs. Its figures on 3.11, 3.14 and 3.14t: ``docs/recipes/countdown.md``.

Run it: ``python recipes/countdown.py``. ``python -m cookbook.run countdown`` times it at the
medium size, where each call is short enough that the thread and process pools'
per-call costs weigh on their efficiency; ``--size large`` shows how they scale.
"""

from concurrent.futures import ThreadPoolExecutor
from itertools import repeat

import numpy as np
from joblib import Parallel, delayed

try:
    import numba
except ImportError:  # numba has no wheels for some Pythons (none for 3.13t): its variants are skipped
    numba = None

try:
    from concurrent.futures import InterpreterPoolExecutor
except ImportError:  # Python 3.13 and older: python_interpreters is skipped
    InterpreterPoolExecutor = None

SIZES = {"small": 40_000, "medium": 100_000, "large": 2_000_000}
MIN_SIZE = 1  # one step per countdown
N_TASKS = 16  # fixed by the workload, so the result never depends on workers
MODULUS = 1_000_003  # a prime: the checksum has no closed form to skip to


def memory_bytes(size):
    """Peak memory a run at ``size`` needs: the ``N_TASKS`` lengths and checksums, whatever the size."""
    return 2 * 8 * N_TASKS


def countdown(n):
    """Count ``n`` down to zero and return a checksum of the steps."""
    checksum = 0
    while n > 0:
        checksum = (checksum * 31 + n) % MODULUS
        n -= 1
    return checksum


def countdown_local(n, modulus):
    """``countdown`` with the modulus an argument: the loop reads no global."""
    checksum = 0
    while n > 0:
        checksum = (checksum * 31 + n) % modulus
        n -= 1
    return checksum


if numba:  # without it, the numba variants are skipped (see below VARIANTS)
    countdown_numba = numba.njit(nogil=True, cache=True)(countdown)

    @numba.njit(parallel=True, cache=True)
    def _countdown_prange(lengths):
        checksums = np.empty(len(lengths), dtype=np.int64)
        for task in numba.prange(len(lengths)):
            checksums[task] = countdown_numba(lengths[task])
        return checksums


def make_input(size, seed=0):
    """Return the countdown lengths: ``N_TASKS`` countdowns of ``size`` steps."""
    if size < MIN_SIZE:
        raise ValueError(
            f"size {size} is below this recipe's smallest size, {MIN_SIZE}: "
            "a countdown of no steps computes nothing"
        )
    return np.full(N_TASKS, size, dtype=np.int64)


def serial(lengths, n_workers):
    return np.array([countdown(n) for n in lengths.tolist()])


def python_threads(lengths, n_workers):
    with ThreadPoolExecutor(n_workers) as pool:
        return np.array(list(pool.map(countdown, lengths.tolist())))


def python_threads_local(lengths, n_workers):
    with ThreadPoolExecutor(n_workers) as pool:
        return np.array(list(pool.map(countdown_local, lengths.tolist(), repeat(MODULUS))))


def numba_(lengths, n_workers):
    return np.array([countdown_numba(n) for n in lengths])


def numba_threads(lengths, n_workers):
    with ThreadPoolExecutor(n_workers) as pool:
        return np.array(list(pool.map(countdown_numba, lengths)))


def numba_prange(lengths, n_workers):
    numba.set_num_threads(n_workers)
    return _countdown_prange(lengths)


def joblib_processes(lengths, n_workers):
    tasks = (delayed(countdown)(n) for n in lengths.tolist())
    return np.array(Parallel(n_jobs=n_workers, prefer="processes")(tasks))


def python_interpreters(lengths, n_workers):
    with InterpreterPoolExecutor(n_workers) as pool:
        return np.array(list(pool.map(countdown_local, lengths.tolist(), repeat(MODULUS))))


VARIANTS = {
    "serial": serial,
    "python_threads": python_threads,
    "python_threads_local": python_threads_local,
    "numba": numba_,
    "numba_threads": numba_threads,
    "numba_prange": numba_prange,
    "joblib_processes": joblib_processes,
    "python_interpreters": python_interpreters,
}
NOT_APPLICABLE = {
    "numpy_threads": "a countdown is a chain of dependent scalar steps; NumPy has no operation for it",
}
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
    for name, variant in VARIANTS.items():
        variant(data, os.cpu_count() or 1)  # untimed: numba compiles and pools start on a first call
        start = time.perf_counter()
        result = variant(data, os.cpu_count() or 1)
        elapsed = time.perf_counter() - start
        print(f"{name:20} {elapsed:8.3f} s  agrees: {np.array_equal(result, expected)}")
