"""Count down from N, several times: the classic proof of the GIL.

Workload
--------
``N_TASKS`` independent countdowns of ``size`` steps each. Every step is a
few integer operations on Python objects, so the work is pure interpreter
time: CPU-bound, no memory traffic, no library call that could drop the GIL.
A bare ``while n > 0: n -= 1`` would not do for numba: LLVM replaces that loop
with its closed form: compiled, it counted down from 10**12 in under 1 µs
(2026-11-25, on a 2-vCPU AMD EPYC virtual machine).
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
Every variant's figures, with their 95% intervals and a plot: ``docs/recipes/countdown.md``,
rendered from the committed runs in ``results/``.

Free-threaded Python 3.14t
--------------------------
``python -m cookbook.run all --size large`` on 2026-11-30, on a 2-vCPU AMD EPYC VM, on a
3.14.7 free-threaded build (GIL off) and on the GIL build of the same
source, numpy 2.5.5, scipy 1.18.1, numba 0.68.1 on both, one run each. On
3.14t python_threads took 1.59 s with 2 workers (0.93x serial, efficiency
0.48), against 1.33 s (1.02x, 0.50) on 3.14. The loop reads the global
MODULUS (1,000,003, an int above 256, so not immortal) at every step, and a
free-threaded build writes its reference count from both threads (docs/free-threaded.md).
With ``modulus = MODULUS`` bound once per call, a
probe gave 0.88 against 0.30 as written (0.89 against 0.36 in a second
run); sampled over four minutes, it
gave 0.85-0.90 whether a cache line's round trip between the VM's two CPUs
took 76-124 or 375-384 ns, the kernel as written 0.47-0.52 and 0.29-0.38. On one thread, serial took 1.06x as
long on 3.14t as on 3.14 (1.06-1.08x in three interleaved rounds), and 1.09x
as long on 3.14 as on 3.11.7: the first is the free-threaded build's own
cost. Efficiencies on 3.14 and on 3.14t of the other variants: numba_threads
0.97 and 0.89, numba_prange 1.00 and 1.00, joblib_processes 0.98 and 0.93.

Run it: ``python recipes/countdown.py``. ``python -m cookbook.run countdown`` times it at the
medium size, where each call is short enough that the thread and process pools'
per-call costs weigh on their efficiency; ``--size large`` shows how they scale.
"""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
from joblib import Parallel, delayed

try:
    import numba
except ImportError:  # numba has no wheels for some Pythons (none for 3.13t): its variants are skipped
    numba = None

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
        variant(data, os.cpu_count() or 1)  # untimed: numba compiles and pools start on a first call
        start = time.perf_counter()
        result = variant(data, os.cpu_count() or 1)
        elapsed = time.perf_counter() - start
        print(f"{name:18} {elapsed:8.3f} s  agrees: {np.array_equal(result, expected)}")
