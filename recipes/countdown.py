"""Count down from N, several times: the classic proof of the GIL.

Workload
--------
``N_TASKS`` independent countdowns of ``size`` steps each. Every step is a
few integer operations on Python objects, so the work is pure interpreter
time: CPU-bound, no memory traffic, no library call that could drop the GIL.
A bare ``while n > 0: n -= 1`` would not do for numba: LLVM replaces that loop
with its closed form: compiled, it counted down from 10**12 in under 1 µs
(2026-11-25, the machine below).
So each step also folds ``n`` into a checksum modulo a prime, a recurrence
with no closed form; the checksums are the result (exact integers).

What the GIL does to each variant
---------------------------------
serial: the countdowns one after the other on one core; the reference.

python_threads: the countdowns on a thread pool. Only the thread holding the
GIL runs bytecode, so threads take turns and the total time stays that of
``serial`` (the classic result: two threads are no faster than one after the
other).

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

Measured
--------
``python -m cookbook.run all --size large`` on 2026-11-25, on a 2-vCPU AMD
EPYC virtual machine, Python 3.11.7, numba 0.68.1; medians of 5 calls:
serial 1.84 s; python_threads on 2 threads 2.01 s (0.91x serial: the GIL);
numba 160 ms (11.5x: the modulo chain keeps even compiled code busy);
numba_threads on 2 threads 83.6 ms (efficiency 0.96); numba_prange 79.9 ms
(1.00); joblib_processes on 2 processes 1.01 s (1.81x serial), after a
first call of 1.82 s that started the pool and ran in unwarmed workers.

Free-threaded Python 3.14t
--------------------------
``python -m cookbook.run all --size large`` on Python 3.11.7 and on a 3.14.7
free-threaded build with the GIL off (numba 0.68.1 there), 2026-11-25, same
2-vCPU VM, one run each; the 3.11 figures here are from that pair, not the
run above, and two 3.11 runs that day differed by up to 0.18 in
python_threads' efficiency, up to 0.6 in other variants'. On 3.14t
python_threads took 1.80 s on 2 threads (1.20x serial, efficiency 0.69),
against 2.07 s (0.93x, 0.47) on 3.11; its repeats ranged 1.53-3.05 s (the
best is an efficiency of 0.81), and why it fell short of 1 was not
investigated. serial took 2.16 s against 1.93 s (1.12x as long),
python_threads on one thread 2.48 s against 1.95 s (1.27x). Both ratios mix
the move from 3.11 to 3.14 with the free-threaded build's own overhead: no
default-build 3.14 was measured. numba_threads' efficiency went from 0.99 to
0.89 and numba_prange's from 1.00 to 1.01; joblib_processes gave 1.93x and
1.89x serial (efficiency 0.95 and 0.93).

Run it: ``python recipes/countdown.py``.
"""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
from joblib import Parallel, delayed

try:
    import numba
except ImportError:  # numba has no wheels for some Pythons (none for 3.13t): its variants are skipped
    numba = None

SIZES = {"small": 40_000, "large": 2_000_000}
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
    return np.full(N_TASKS, size, dtype=np.int64)


def serial(lengths, n_workers):
    return np.array([countdown(n) for n in lengths.tolist()])


def python_threads(lengths, n_workers):
    with ThreadPoolExecutor(n_workers) as pool:
        return np.array(list(pool.map(countdown, lengths.tolist())))


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


VARIANTS = {
    "serial": serial,
    "python_threads": python_threads,
    "numba": numba_,
    "numba_threads": numba_threads,
    "numba_prange": numba_prange,
    "joblib_processes": joblib_processes,
}
NOT_APPLICABLE = {
    "numpy_threads": "a countdown is a chain of dependent scalar steps; NumPy has no operation for it",
}
if numba is None:
    NOT_APPLICABLE |= {v: "numba is not installed for this Python" for v in VARIANTS if v.startswith("numba")}
    VARIANTS = {v: run for v, run in VARIANTS.items() if v not in NOT_APPLICABLE}

if __name__ == "__main__":
    import os
    import time

    data = make_input(SIZES["small"])
    expected = serial(data, 1)
    for name, variant in VARIANTS.items():
        start = time.perf_counter()
        result = variant(data, os.cpu_count() or 1)
        elapsed = time.perf_counter() - start
        print(f"{name:18} {elapsed:8.3f} s  agrees: {np.array_equal(result, expected)}")
