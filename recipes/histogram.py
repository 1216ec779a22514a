"""Count samples into equal-width bins: partial histograms per chunk, summed at the end.

Workload
--------
``size`` float64 samples, normal with standard deviation 2, counted into
``N_BINS`` bins of width 0.1 over [``LO``, ``HI``); samples outside are
dropped. A sample's bin is ``int((x - LO) * SCALE)``, clipped to the last
bin (a sample just below ``HI`` can round up to ``N_BINS``). Python, numba
and NumPy do the same two IEEE operations in the same order, so they put
every sample in the same bin. One sample in 64 is snapped to a multiple of
0.1, where that rounding decides the bin. ``np.histogram`` is not used: it
checks each index against its own array of edges and counts ``x == HI`` in
the last bin; on 1,000,000 samples of this input it put 4,050 of those below
``HI`` in a neighbouring bin.

The samples are cut into ``N_CHUNKS`` rows; each row gives a partial
histogram and the partials are summed: integers, so the result is exact and
the same for any number of workers. Each 8-byte sample, read once, costs
two comparisons, a subtraction, a multiplication and an increment into a
table of ``N_BINS`` counts that stays in cache: CPU-bound.

What the GIL does to each variant
---------------------------------
serial: the rows one after the other in a pure-Python loop; the reference.

python_threads: rows on a thread pool; the loop is bytecode, the GIL lets
one thread run at a time: no speedup.

numpy: each row with array operations (mask, bin index, ``np.bincount``), on
one thread.

numpy_threads: the same on a thread pool. The ufuncs, the masked copy and
``np.bincount``'s counting loop release the GIL; ``np.bincount``'s first
pass, which finds the indices' minimum and maximum, holds it (NumPy's source,
``arr_bincount``).

numba: the kernel compiled with ``numba.njit``, on one thread.

numba_threads: the kernel compiled with ``nogil=True``, rows on a thread
pool; each row fills its own partial histogram without the GIL.

numba_prange: a ``numba.prange`` loop over the rows, each filling its own
row of a 2-D array of partial histograms, summed after the loop. One shared
histogram would race: ``counts[b] += 1`` is a load, an add and a store, and
two threads that load the same bin at once both store the same value, so an
increment is lost. numba's documentation warns that it may not detect such a
reduction into elements of an array; on 2 threads of a 2-vCPU machine, a
version with one shared histogram lost about 1% of the large input's counts.

joblib_processes: the pure-Python kernel in loky worker processes. Each row
travels to a worker (rows over 1 MB through a memory-mapped file, joblib's
default) and ``N_BINS`` integers come back.

python_interpreters: on Python 3.14 and later, rows on an
``InterpreterPoolExecutor``, whose workers are threads of this process that
each run an interpreter of their own, with its own GIL. A task's function and
arguments are pickled into the worker's interpreter. ``bin_counts`` reads the
module's bin constants, so it would go by name, and each interpreter would
import this module, which imports NumPy, which cannot be loaded in a
subinterpreter. So this variant sends ``bin_counts_local``, which takes the
constants as arguments and reads no global: it travels as its code. Each row
goes as a list of floats, and ``N_BINS`` integers come back.

Measured
--------
Every variant's figures, with their 95% intervals and a plot: ``docs/recipes/histogram.md``,
rendered from the committed runs in ``results/``.

Free-threaded Python 3.14t
--------------------------
On a free-threaded build (3.14t) python_threads runs without a GIL, and scales fully only if its
threads share no object in the hot loop (docs/free-threaded.md). Its loop reads the globals LO, HI
and SCALE at every sample; binding them to locals was not enough in a probe
(scripts/free_threading/shared_objects.py), and what else the threads share was not found. Its
figures on 3.11, 3.14 and 3.14t: ``docs/recipes/histogram.md``.

Run it: ``python recipes/histogram.py``. ``python -m cookbook.run histogram`` times it at the
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

SIZES = {"small": 200_000, "medium": 700_000, "large": 15_000_000}
N_CHUNKS = 32  # fixed by the workload; the sum of integer partials is exact anyway
MIN_SIZE = N_CHUNKS  # a sample per row: make_input rounds the size down to whole rows
N_TASKS = N_CHUNKS  # one task per row
N_BINS = 100
LO = -5.0
HI = 5.0
SCALE = N_BINS / (HI - LO)  # bins per unit: multiplying by it is the same in every engine


def memory_bytes(size):
    """Peak memory a run at ``size`` needs: the samples (float64) and one chunk as a list.

    A Python float in a list takes about 32 bytes: the object and its slot in the list.
    """
    return 8 * size + 32 * size // N_CHUNKS


def bin_counts(samples, counts):
    """Add one to ``counts[bin]`` for every sample in [LO, HI); return ``counts``."""
    for x in samples:
        if LO <= x < HI:
            b = int((x - LO) * SCALE)
            if b == N_BINS:  # x just below HI, rounded up
                b = N_BINS - 1
            counts[b] += 1
    return counts


def bin_counts_local(samples, counts, lo, hi, scale):
    """``bin_counts`` with the constants as arguments: it reads no global, so it can be sent to
    another interpreter as its code; ``len(counts)`` is the number of bins."""
    n_bins = len(counts)
    for x in samples:
        if lo <= x < hi:
            b = int((x - lo) * scale)
            if b == n_bins:
                b = n_bins - 1
            counts[b] += 1
    return counts


if numba:  # without it, the numba variants are skipped (see below VARIANTS)
    bin_counts_numba = numba.njit(nogil=True, cache=True)(bin_counts)

    @numba.njit(parallel=True, cache=True)
    def _bin_counts_prange(chunks):
        partial = np.zeros((len(chunks), N_BINS), dtype=np.int64)  # one row per chunk: no race
        for c in numba.prange(len(chunks)):
            bin_counts_numba(chunks[c], partial[c])
        return partial.sum(axis=0)


def bin_counts_numpy(samples):
    """Count like ``bin_counts``, with array operations and ``np.bincount``."""
    inside = samples[(samples >= LO) & (samples < HI)]
    bins = ((inside - LO) * SCALE).astype(np.int64)
    np.minimum(bins, N_BINS - 1, out=bins)
    return np.bincount(bins, minlength=N_BINS)


def make_input(size, seed=0):
    """Return ``N_CHUNKS`` equal rows of samples (``size`` rounded down), one in 64 on a bin edge."""
    if size < MIN_SIZE:
        raise ValueError(
            f"size {size} is below this recipe's smallest size, {MIN_SIZE}: "
            "rounded down to N_CHUNKS equal rows, it leaves no samples"
        )
    samples = np.random.default_rng(seed).normal(0.0, 2.0, size // N_CHUNKS * N_CHUNKS)
    samples[::64] = np.round(samples[::64] * 10) / 10
    return samples.reshape(N_CHUNKS, -1)


def _python_counts(chunk):
    return bin_counts(chunk.tolist(), [0] * N_BINS)  # lists: NumPy scalars are slow in a loop


def _numba_counts(chunk):
    return bin_counts_numba(chunk, np.zeros(N_BINS, dtype=np.int64))


def _total(partials):
    return np.array(list(partials), dtype=np.int64).sum(axis=0)


def serial(chunks, n_workers):
    return _total(map(_python_counts, chunks))


def python_threads(chunks, n_workers):
    with ThreadPoolExecutor(n_workers) as pool:
        return _total(pool.map(_python_counts, chunks))


def numpy_(chunks, n_workers):
    return _total(map(bin_counts_numpy, chunks))


def numpy_threads(chunks, n_workers):
    with ThreadPoolExecutor(n_workers) as pool:
        return _total(pool.map(bin_counts_numpy, chunks))


def numba_(chunks, n_workers):
    return _total(map(_numba_counts, chunks))


def numba_threads(chunks, n_workers):
    with ThreadPoolExecutor(n_workers) as pool:
        return _total(pool.map(_numba_counts, chunks))


def numba_prange(chunks, n_workers):
    numba.set_num_threads(n_workers)
    return _bin_counts_prange(chunks)


def joblib_processes(chunks, n_workers):
    tasks = (delayed(_python_counts)(chunk) for chunk in chunks)
    return _total(Parallel(n_jobs=n_workers, prefer="processes")(tasks))


def python_interpreters(chunks, n_workers):
    rows = chunks.tolist()
    empty = ([0] * N_BINS for _ in rows)
    with InterpreterPoolExecutor(n_workers) as pool:
        return _total(pool.map(bin_counts_local, rows, empty, repeat(LO), repeat(HI), repeat(SCALE)))


VARIANTS = {
    "serial": serial,
    "python_threads": python_threads,
    "numpy": numpy_,
    "numpy_threads": numpy_threads,
    "numba": numba_,
    "numba_threads": numba_threads,
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
    print(f"{expected.sum()} of {data.size} samples in [{LO}, {HI})")
    for name, variant in VARIANTS.items():
        variant(data, os.cpu_count() or 1)  # untimed: numba compiles and pools start on a first call
        start = time.perf_counter()
        result = variant(data, os.cpu_count() or 1)
        elapsed = time.perf_counter() - start
        print(f"{name:18} {elapsed:8.3f} s  agrees: {np.array_equal(result, expected)}")
