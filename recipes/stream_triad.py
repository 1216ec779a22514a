"""Stream through large arrays with the STREAM triad ``a = b + scalar * c``: a memory-bound lesson.

Workload
--------
Two arrays ``b`` and ``c`` of ``size`` float64 values (uniform in [0, 1)),
and ``out = b + SCALAR * c`` written into a third. Each element costs one
multiply and one add for 24 bytes moved (``bytes_moved``: read ``b`` and
``c``, write ``out``, the STREAM benchmark's count, which leaves out the
cache's own read of each line before it is written). The arithmetic is so
cheap that a compiled loop waits on memory, and more cores share the same
memory bandwidth. Timings are reported as GB/s, ``bytes_moved(size) /
time``, against the machine's measured copy bandwidth. The pure-Python
variants are the exception: the interpreter spends far longer per element
than the memory does, so they are CPU-bound.

The arrays are cut into ``N_CHUNKS`` chunks fixed by the workload. The
result is each chunk's sum of ``out``, computed right after the chunk is
written: a float array of ``N_CHUNKS`` values that checks every element
without handing back (and comparing) a whole array per call. The output
array is not the result because every variant is called repeatedly on the
same data: a shared output returned as the result would be the very array
the reference result lives in.

First touch: a new array's memory is mapped page by page on first write,
and that page-fault cost would be timed along with the triad.
``make_input`` therefore allocates ``out`` once and writes it
(``np.zeros`` and ``np.empty`` leave the pages unmapped), and the variants
that can, write into it; it is scratch, overwritten with the same values by
every call. The large size is only 10**7 elements (80 MB per array, 240 MB
in all), held down by the pure-Python ``serial``; that is still far larger
than the caches.

What the GIL does to each variant
---------------------------------
serial: the chunks one after the other through the pure-Python kernel, on
lists, each chunk's output into a list; the reference.

python_threads: chunks on a thread pool; the loop is bytecode, the GIL lets
one thread run at a time: no speedup.

numpy: each chunk with ``np.multiply(c, SCALAR, out=out)``,
``np.add(out, b, out=out)`` and ``out.sum()``: three passes over the chunk,
no temporaries, on one thread. A chunk of ``out`` is small (1.25 MB at the
large size), so the second and third passes can find it in cache.

numpy_threads: the same on a thread pool. Each ufunc call releases the GIL,
so the chunks run at once, but all threads share one memory bus.

numba: the kernel compiled with ``numba.njit``: one pass that writes each
element and adds it to the sum, on one thread.

numba_threads: the kernel compiled with ``nogil=True``, chunks on a thread
pool, each writing its slice of ``out`` without the GIL; the threads then
compete for memory bandwidth.

numba_prange: a ``numba.prange`` loop over the chunks on numba's own threads.

joblib_processes: the pure-Python kernel in loky worker processes, one GIL
each, which pays here only because the interpreter is the bottleneck.

numpy_processes: the NumPy chunk in loky worker processes, showing why
processes are a poor fit for memory-bound work. A worker cannot write the
parent's ``out``, so each task writes a new array of its own. Worse, the
inputs must travel: joblib copies every chunk argument over 1 MB into a
file in its temporary folder (``/dev/shm`` where it exists) that the worker
maps read-only, and pickles smaller ones through a pipe. Each call copies
``b`` and ``c`` once more before any worker reads them, which moves more
bytes than the triad itself.

Measured
--------
``python -m cookbook.run all --size large`` on 2026-11-25, on a 2-vCPU AMD
EPYC virtual machine, Python 3.11.7, numpy 2.4.6, scipy 1.17.1, numba
0.68.1; medians of 5 calls, size 10,000,000: serial 2.66 s; python_threads
2.83 s with 2 workers (0.94x serial, efficiency 0.53); numpy 10.9 ms
(244.26x serial); numpy_threads 9.5 ms with 2 workers (279.43x serial,
efficiency 0.70); numba 8.94 ms (297.23x serial); numba_threads 7.73 ms with
2 workers (343.66x serial, efficiency 0.81); numba_prange 4.88 ms with 2
workers (544.42x serial, efficiency 0.90); joblib_processes 1.07 s with 2
workers (2.49x serial, efficiency 1.27); numpy_processes 235 ms with 2
workers (11.31x serial, efficiency 0.02).

In GB/s by the STREAM count (``bytes_moved``, 240 MB a call): numpy 22,
numpy_threads 25 (2 workers), numba 27, numba_threads 31 and numba_prange
49 (2 workers), numpy_processes 1.0. The machine's copy bandwidth, measured
the same day with ``np.copyto`` of 80 MB arrays, was 24 GB/s on one thread
and 26 GB/s on two. So one core here does not saturate memory: the compiled
threads still gained 1.2-1.8x, more than the 1.0-1.2x this kind of machine
gave for NumPy streaming operations (shared/BASELINES.md); NumPy's three
passes per chunk gained least. numpy_processes spent its time copying the
inputs to the workers and the sums back, 22x slower than one thread.

joblib_processes' 2.49x over serial is beyond 2 cores: per element, the
fresh worker processes ran the pure-Python kernel faster than the
long-lived parent did (1-worker runs stay in the parent); not traced.

Free-threaded Python 3.14t
--------------------------
``python -m cookbook.run all --size large`` on 2026-11-30, same VM, on a
3.14.7 free-threaded build (GIL off) and on the GIL build of the same
source, numpy 2.5.5, scipy 1.18.1, numba 0.68.1 on both, one run each. On
3.14t python_threads took 824 ms with 2 workers (0.86x serial, efficiency
0.44), against 651 ms (0.96x, 0.46) on 3.14. Each chunk has its own lists;
what the threads still share was not probed. On one thread, serial took
1.12x as long on 3.14t as on 3.14 (1.11-1.16x in three interleaved rounds),
and 0.85x as long on 3.14 as on 3.11.7: the first is the free-threaded
build's own cost. Efficiencies on 3.14 and on 3.14t of the other variants:
numpy_threads 0.74 and 0.94, numba_threads 0.58 and 0.76, numba_prange 0.61
and 1.00, joblib_processes 0.58 and 0.67, numpy_processes 0.02 and 0.02.

Run it: ``python recipes/stream_triad.py``. ``python -m cookbook.run stream_triad`` times it at the
medium size, where each call is short enough that the thread and process pools'
per-call costs weigh on their efficiency; ``--size large`` shows how they scale.
"""

from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise

import numpy as np
from joblib import Parallel, delayed

try:
    import numba
except ImportError:  # numba has no wheels for some Pythons (none for 3.13t): its variants are skipped
    numba = None

SIZES = {"small": 200_000, "medium": 1_050_000, "large": 10_000_000}
N_CHUNKS = 64  # fixed by the workload, so each chunk's sum never depends on the workers
SCALAR = 3.0
# Python and numba add a chunk's values in order, NumPy's sum pairwise. All
# values are positive, so each sum is within (n - 1) * 2**-53 of exact
# (relative) for a chunk of n values: under 2e-11 at the large size, and
# 1e-9 holds for chunks up to about 4e6 values.
RTOL = 1e-9


def bytes_moved(size):
    """Bytes one call reads and writes to memory, as STREAM counts them: b, c and out."""
    return 3 * 8 * size


def memory_bytes(size):
    """Peak memory a run at ``size`` needs: b, c and out (float64) and one chunk of each as a list.

    A Python float in a list takes about 32 bytes: the object and its slot in the list.
    """
    return 3 * 8 * size + 3 * 32 * size // N_CHUNKS


def triad_sum(b, c, scalar, out):
    """Store ``out[i] = b[i] + scalar * c[i]`` and return the sum of ``out``."""
    total = 0.0
    for i in range(len(out)):
        value = b[i] + scalar * c[i]
        out[i] = value
        total += value
    return total


if numba:  # without it, the numba variants are skipped (see below VARIANTS)
    triad_sum_numba = numba.njit(nogil=True, cache=True)(triad_sum)

    @numba.njit(parallel=True, cache=True)
    def _triad_sum_prange(b, c, scalar, bounds, out):
        sums = np.empty(len(bounds) - 1)
        for chunk in numba.prange(len(bounds) - 1):
            lo, hi = bounds[chunk], bounds[chunk + 1]
            sums[chunk] = triad_sum_numba(b[lo:hi], c[lo:hi], scalar, out[lo:hi])
        return sums


def triad_sum_numpy(b, c, scalar, out):
    """Do what ``triad_sum`` does with two ufunc calls into ``out``, then sum it."""
    np.multiply(c, scalar, out=out)
    np.add(out, b, out=out)
    return float(out.sum())


def triad_sum_lists(b, c):
    """Run the pure-Python kernel on one chunk, on lists (NumPy scalars are slow in a loop)."""
    return triad_sum(b.tolist(), c.tolist(), SCALAR, [0.0] * len(b))


def triad_sum_new(b, c):
    """Run the NumPy chunk into a new output: a worker process cannot write the parent's."""
    return triad_sum_numpy(b, c, SCALAR, np.empty(len(b)))


def make_input(size, seed=0):
    """Return b, c and the output array, already written once (first touch paid here)."""
    rng = np.random.default_rng(seed)
    b = rng.random(size)
    c = rng.random(size)
    out = np.full(size, 0.0)  # np.full writes every page; np.zeros/np.empty would not
    return b, c, out


def _bounds(size):
    return np.linspace(0, size, N_CHUNKS + 1).astype(np.int64)


def _slices(size):
    return [slice(lo, hi) for lo, hi in pairwise(_bounds(size).tolist())]


def _chunk_sums(kernel, data, map_fn=map):
    """Run ``kernel`` on every chunk, writing into ``out``; ``map_fn`` decides where."""
    b, c, out = data
    return np.array(list(map_fn(lambda s: kernel(b[s], c[s], SCALAR, out[s]), _slices(len(out)))))


def serial(data, n_workers):
    b, c, _ = data
    return np.array([triad_sum_lists(b[s], c[s]) for s in _slices(len(b))])


def python_threads(data, n_workers):
    b, c, _ = data
    with ThreadPoolExecutor(n_workers) as pool:
        return np.array(list(pool.map(lambda s: triad_sum_lists(b[s], c[s]), _slices(len(b)))))


def numpy_(data, n_workers):
    return _chunk_sums(triad_sum_numpy, data)


def numpy_threads(data, n_workers):
    with ThreadPoolExecutor(n_workers) as pool:
        return _chunk_sums(triad_sum_numpy, data, pool.map)


def numba_(data, n_workers):
    return _chunk_sums(triad_sum_numba, data)


def numba_threads(data, n_workers):
    with ThreadPoolExecutor(n_workers) as pool:
        return _chunk_sums(triad_sum_numba, data, pool.map)


def numba_prange(data, n_workers):
    b, c, out = data
    numba.set_num_threads(n_workers)
    return _triad_sum_prange(b, c, SCALAR, _bounds(len(out)), out)


def joblib_processes(data, n_workers):
    b, c, _ = data
    tasks = (delayed(triad_sum_lists)(b[s], c[s]) for s in _slices(len(b)))
    return np.array(Parallel(n_jobs=n_workers, prefer="processes")(tasks))


def numpy_processes(data, n_workers):
    b, c, _ = data
    tasks = (delayed(triad_sum_new)(b[s], c[s]) for s in _slices(len(b)))
    return np.array(Parallel(n_jobs=n_workers, prefer="processes")(tasks))


VARIANTS = {
    "serial": serial,
    "python_threads": python_threads,
    "numpy": numpy_,
    "numpy_threads": numpy_threads,
    "numba": numba_,
    "numba_threads": numba_threads,
    "numba_prange": numba_prange,
    "joblib_processes": joblib_processes,
    "numpy_processes": numpy_processes,
}
if numba is None:
    NOT_APPLICABLE = {v: "numba is not installed for this Python" for v in VARIANTS if v.startswith("numba")}
    VARIANTS = {v: run for v, run in VARIANTS.items() if v not in NOT_APPLICABLE}

if __name__ == "__main__":
    import os
    import time

    data = make_input(SIZES["small"])
    expected = serial(data, 1)
    print(f"triad over {SIZES['small']} elements, {bytes_moved(SIZES['small']) / 1e6:.1f} MB moved per call")
    for name, variant in VARIANTS.items():
        start = time.perf_counter()
        result = variant(data, os.cpu_count() or 1)
        elapsed = time.perf_counter() - start
        agrees = np.allclose(result, expected, rtol=RTOL, atol=0.0)
        print(f"{name:18} {elapsed:8.3f} s  agrees: {agrees}")
