"""Fourier transforms of a batch of signals: a Python FFT against pocketfft's.

Workload
--------
``size`` complex signals of ``LENGTH`` samples each, every one transformed
with its own 1-D FFT; the result is the complex spectrum of every signal,
shape ``(size, LENGTH)``. The signals are independent, so the batch is cut
into ``N_CHUNKS`` chunks of rows fixed by the workload. The kernel is an
iterative radix-2 Cooley-Tukey FFT (bit-reversal, then log2(LENGTH) passes of
butterflies), written in the Python that numba compiles: CPU-bound, about
``LENGTH * log2(LENGTH) / 2`` complex multiply-adds per signal on data that
stays in cache. NumPy and SciPy run pocketfft (C++) instead, with larger
radices, precomputed twiddle factors and, across a batch, vector
instructions: not the same arithmetic, so see ``ATOL``.

What the GIL does to each variant
---------------------------------
serial: the chunks one after the other, each chunk as Python lists of
complex numbers through the pure-Python FFT; the reference.

python_threads: chunks on a thread pool. The butterflies are bytecode, so the
GIL lets one thread run at a time: no speedup.

numpy: ``np.fft.fft`` on the whole batch at once, on one thread.

numpy_threads: ``np.fft.fft`` on chunks on a thread pool. Since NumPy 2.0,
``numpy.fft`` is a generalized ufunc over pocketfft's C++ code (numpy PRs
#25536 and #25711, ``numpy/fft/_pocketfft_umath.cpp``). The ufunc machinery
releases the GIL around the loop for non-object dtypes once the problem is
over a small size threshold, and that file takes the GIL back only to raise
an error, so the chunks run at once. NumPy builds pocketfft without its own
threads (``POCKETFFT_NO_MULTITHREADING``): one call is one thread.

numba: the same FFT compiled with ``numba.njit``, on one thread.

numba_threads: the kernel compiled with ``nogil=True``, chunks on a thread
pool. The kernel transforms a chunk in place and allocates nothing, so it
runs without the GIL from the first signal of a chunk to the last.

numba_prange: a ``numba.prange`` loop over the chunks on numba's own threads.

scipy_workers: ``scipy.fft.fft(..., workers=n_workers)`` on the whole batch:
pocketfft's own C++ thread pool splits the independent 1-D transforms
between threads (the ``scipy.fft.fft`` docstring: ``workers`` "will execute
independent 1-D FFTs within x"). No Python thread is involved, so nothing of
this recipe can be swapped to watch it run in parallel.

scipy_threads: ``scipy.fft.fft`` (one worker) on chunks on a Python thread
pool. SciPy's pocketfft wrapper drops the GIL with
``py::gil_scoped_release`` around the transform
(``scipy/fft/_pocketfft/pypocketfft.cxx``), so the chunks run at once.

joblib_processes: the pure-Python FFT on chunks in loky worker processes, one
GIL each; each chunk goes to a worker (memory-mapped when over 1 MB, joblib's
default) and its spectrum comes back pickled.

python_interpreters: does not apply on any Python: its kernel reads the module
global math, so it would be pickled by name, and each interpreter would then
import this module, which imports NumPy, and NumPy cannot be loaded in a
subinterpreter (InterpreterPoolExecutor sends a function that reads no global
as its code, any other by name).

Measured
--------
Every variant's figures, with their 95% intervals and a plot: ``docs/recipes/fft_batch.md``,
rendered from the committed runs in ``results/``.

Free-threaded Python 3.14t
--------------------------
On a free-threaded build (3.14t) python_threads runs without a GIL, and scales fully only if its
threads share no object in the hot loop (docs/free-threaded.md). Each chunk's transform works on its
own lists, and math is called once per twiddle factor, outside the innermost loop: the threads share
almost nothing, and python_threads scales. Its figures on 3.11, 3.14 and 3.14t:
``docs/recipes/fft_batch.md``.

Run it: ``python recipes/fft_batch.py``. ``python -m cookbook.run fft_batch`` times it at the
medium size, where each call is short enough that the thread and process pools'
per-call costs weigh on their efficiency; ``--size large`` shows how they scale.
"""

import math
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise

import numpy as np
import scipy.fft
from joblib import Parallel, delayed

try:
    import numba
except ImportError:  # numba has no wheels for some Pythons (none for 3.13t): its variants are skipped
    numba = None

SIZES = {"small": 64, "medium": 96, "large": 2048}  # number of signals
LENGTH = 1024  # samples per signal: a power of two, for the radix-2 kernel
N_CHUNKS = 16  # fixed by the workload, so the chunking never depends on workers
MIN_SIZE = N_CHUNKS  # a signal per chunk: serial's np.vstack fails on an empty chunk
N_TASKS = N_CHUNKS  # one task per chunk; numpy and scipy_workers transform all signals in one call
# Pocketfft and the radix-2 kernel round differently. The error of an FFT bin
# is absolute, about eps * log2(LENGTH) times the spectrum's typical size
# (bins of unit-variance signals are about sqrt(2 * LENGTH) = 45), whatever
# the bin's own size, so near-zero bins need ATOL and RTOL adds nothing: at
# most 1.4e-13 at sizes small..large (measured 2026-12-02); 2e-12 leaves a
# margin of 14, while a real bug (a wrong twiddle factor) is off by order 1.
ATOL = 2e-12


def memory_bytes(size):
    """Peak memory a run at ``size`` needs: three arrays of size x LENGTH complex128.

    The input, serial's transformed chunks and ``np.vstack``'s copy of them; make_input's own
    temporaries (a float64 array and a complex one beside the input) stay below that.
    """
    return 3 * 16 * LENGTH * size


def fft_rows(rows):
    """Replace each row of ``rows`` by its discrete Fourier transform, in place."""
    for r in range(len(rows)):
        x = rows[r]
        n = len(x)
        j = 0  # bit-reversal permutation: x[i] goes to the reverse of i's bits
        for i in range(1, n):
            bit = n >> 1
            while j & bit:
                j ^= bit
                bit >>= 1
            j |= bit
            if i < j:
                x[i], x[j] = x[j], x[i]
        size = 2
        while size <= n:  # merge pairs of transforms of length size/2
            half = size // 2
            for k in range(half):
                angle = -2.0 * math.pi * k / size
                w = complex(math.cos(angle), math.sin(angle))
                for a in range(k, n, size):
                    t = w * x[a + half]
                    x[a + half] = x[a] - t
                    x[a] = x[a] + t
            size *= 2
    return rows


if numba:  # without it, the numba variants are skipped (see below VARIANTS)
    fft_rows_numba = numba.njit(nogil=True, cache=True)(fft_rows)

    @numba.njit(parallel=True, cache=True)
    def _fft_rows_prange(spectra, bounds):
        for chunk in numba.prange(len(bounds) - 1):
            fft_rows_numba(spectra[bounds[chunk] : bounds[chunk + 1]])
        return spectra


def fft_chunk(signals):
    """Transform a chunk with the pure-Python FFT: lists in, an array out."""
    return np.array(fft_rows(signals.tolist()))


def fft_numpy(signals):
    return np.fft.fft(signals, axis=-1)


def fft_scipy(signals):
    return scipy.fft.fft(signals, axis=-1)


def make_input(size, seed=0):
    """Return ``size`` complex signals of ``LENGTH`` standard-normal samples."""
    if size < MIN_SIZE:
        raise ValueError(
            f"size {size} is below this recipe's smallest size, {MIN_SIZE}: "
            "fewer signals than N_CHUNKS leaves a chunk empty"
        )
    rng = np.random.default_rng(seed)
    return rng.standard_normal((size, LENGTH)) + 1j * rng.standard_normal((size, LENGTH))


def _bounds(n_signals):
    return np.linspace(0, n_signals, N_CHUNKS + 1).astype(np.int64)


def _chunks(signals):
    return [signals[a:b] for a, b in pairwise(_bounds(len(signals)).tolist())]


def serial(signals, n_workers):
    return np.vstack([fft_chunk(chunk) for chunk in _chunks(signals)])


def python_threads(signals, n_workers):
    with ThreadPoolExecutor(n_workers) as pool:
        return np.vstack(list(pool.map(fft_chunk, _chunks(signals))))


def numpy_(signals, n_workers):
    return np.fft.fft(signals, axis=-1)


def numpy_threads(signals, n_workers):
    with ThreadPoolExecutor(n_workers) as pool:
        return np.vstack(list(pool.map(fft_numpy, _chunks(signals))))


def numba_(signals, n_workers):
    spectra = signals.copy()
    for chunk in _chunks(spectra):
        fft_rows_numba(chunk)
    return spectra


def numba_threads(signals, n_workers):
    spectra = signals.copy()
    with ThreadPoolExecutor(n_workers) as pool:
        list(pool.map(fft_rows_numba, _chunks(spectra)))
    return spectra


def numba_prange(signals, n_workers):
    numba.set_num_threads(n_workers)
    return _fft_rows_prange(signals.copy(), _bounds(len(signals)))


def scipy_workers(signals, n_workers):
    return scipy.fft.fft(signals, axis=-1, workers=n_workers)


def scipy_threads(signals, n_workers):
    with ThreadPoolExecutor(n_workers) as pool:
        return np.vstack(list(pool.map(fft_scipy, _chunks(signals))))


def joblib_processes(signals, n_workers):
    tasks = (delayed(fft_chunk)(chunk) for chunk in _chunks(signals))
    return np.vstack(Parallel(n_jobs=n_workers, prefer="processes")(tasks))


VARIANTS = {
    "serial": serial,
    "python_threads": python_threads,
    "numpy": numpy_,
    "numpy_threads": numpy_threads,
    "numba": numba_,
    "numba_threads": numba_threads,
    "numba_prange": numba_prange,
    "scipy_workers": scipy_workers,
    "scipy_threads": scipy_threads,
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
    for name, variant in VARIANTS.items():
        variant(data, os.cpu_count() or 1)  # untimed: numba compiles and pools start on a first call
        start = time.perf_counter()
        result = variant(data, os.cpu_count() or 1)
        elapsed = time.perf_counter() - start
        agrees = np.allclose(result, expected, rtol=0.0, atol=ATOL)
        print(f"{name:18} {elapsed:8.3f} s  agrees: {agrees}")
