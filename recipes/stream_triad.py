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
result is ``out`` itself, checked element by element: every engine does the
same multiply and add, so it agrees with serial to the bit.

Which array a call writes (``TriadInput.output``): a check must see what
*this* call stored, not what an earlier call left behind, yet the harness
calls every variant many times on the same data. So the first call of each
variant at each worker count, the call the harness checks (and times
apart), gets a new array of NaN: a store it skips stays NaN. Later calls,
the timed ones, all write one shared scratch array that ``make_input``
has already written once: a new array's memory is mapped page by page on
first write (``np.zeros`` and ``np.empty`` leave the pages unmapped), and
that page-fault cost would otherwise be timed along with the triad. The
large size is only 10**7 elements (80 MB per array), held down by the
pure-Python ``serial``; that is still far larger than the caches.

What the GIL does to each variant
---------------------------------
serial: the chunks one after the other through the pure-Python kernel, on
lists, each chunk's list then copied into ``out``; the reference.

python_threads: chunks on a thread pool; the loop is bytecode, the GIL lets
one thread run at a time: no speedup.

numpy: each chunk with ``np.multiply(c, SCALAR, out=out)`` and
``np.add(out, b, out=out)``: two passes over the chunk, no temporaries, on
one thread. A chunk of ``out`` is small (1.25 MB at the large size), so the
second pass can find it in cache.

numpy_threads: the same on a thread pool. Each ufunc call releases the GIL,
so the chunks run at once, but all threads share one memory bus.

numba: the kernel compiled with ``numba.njit``: one pass that writes each
element, on one thread.

numba_threads: the kernel compiled with ``nogil=True``, chunks on a thread
pool, each writing its slice of ``out`` without the GIL; the threads then
compete for memory bandwidth.

numba_prange: a ``numba.prange`` loop over the chunks on numba's own threads.

joblib_processes: the pure-Python kernel in loky worker processes, one GIL
each, which pays here only because the interpreter is the bottleneck. Each
chunk's values come back pickled and are copied into ``out``.

numpy_processes: the NumPy chunk in loky worker processes, showing why
processes are a poor fit for memory-bound work. A worker cannot write the
parent's ``out``, so each task writes a new array of its own, which comes
back pickled and is copied into ``out``. Worse, the
inputs must travel: joblib copies every chunk argument over 1 MB into a
file in its temporary folder (``/dev/shm`` where it exists) that the worker
maps read-only, and pickles smaller ones through a pipe. Each call copies
``b`` and ``c`` once more before any worker reads them, which moves more
bytes than the triad itself.

python_interpreters: does not apply on any Python: its kernel reads the module
global SCALAR, so it would be pickled by name, and each interpreter would then
import this module, which imports NumPy, and NumPy cannot be loaded in a
subinterpreter (InterpreterPoolExecutor sends a function that reads no global
as its code, any other by name).

Measured
--------
Every variant's figures, with their 95% intervals and a plot: ``docs/recipes/stream_triad.md``,
rendered from the committed runs in ``results/``.

Free-threaded Python 3.14t
--------------------------
On a free-threaded build (3.14t) python_threads runs without a GIL, and scales fully only if its
threads share no object in the hot loop (docs/free-threaded.md). Each chunk has its own lists; what
the threads still share was not probed. Its figures on 3.11, 3.14 and 3.14t:
``docs/recipes/stream_triad.md``.

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
MIN_SIZE = 1  # one element; below N_CHUNKS elements some chunks are empty, which every variant handles
N_CHUNKS = 64  # fixed by the workload
N_TASKS = N_CHUNKS  # one task per chunk
SCALAR = 3.0
# No RTOL: out[i] is one multiply and one add of the same two numbers in every
# engine (numba fuses no multiply-add without fastmath), so the variants agree
# to the bit: measured at small, medium and large, 2026-12-02.


def bytes_moved(size):
    """Bytes one call reads and writes to memory, as STREAM counts them: b, c and out."""
    return 3 * 8 * size


def memory_bytes(size):
    """Peak memory a run at ``size`` needs: eight float64 arrays of ``size``, and a chunk as lists.

    b, c and the scratch output; the reference (serial's first output) and the output of the
    first call being checked; numpy_processes adds its chunks as they come back and joblib's
    copies of b and c for the workers. A Python float in a list takes about 32 bytes.
    """
    return 8 * 8 * size + 3 * 32 * size // N_CHUNKS


def triad(b, c, scalar, out):
    """Store the triad ``out[i] = b[i] + scalar * c[i]`` and return ``out``."""
    for i in range(len(out)):
        out[i] = b[i] + scalar * c[i]
    return out


if numba:  # without it, the numba variants are skipped (see below VARIANTS)
    triad_numba = numba.njit(nogil=True, cache=True)(triad)

    @numba.njit(parallel=True, cache=True)
    def _triad_prange(b, c, scalar, bounds, out):
        for chunk in numba.prange(len(bounds) - 1):
            lo, hi = bounds[chunk], bounds[chunk + 1]
            triad_numba(b[lo:hi], c[lo:hi], scalar, out[lo:hi])
        return out


def triad_numpy(b, c, scalar, out):
    """Do what ``triad`` does with two ufunc calls into ``out``."""
    np.multiply(c, scalar, out=out)
    np.add(out, b, out=out)
    return out


def triad_lists(b, c):
    """Run the pure-Python kernel on one chunk, on lists (NumPy scalars are slow in a loop)."""
    return triad(b.tolist(), c.tolist(), SCALAR, [0.0] * len(b))


def triad_new(b, c):
    """Run the NumPy chunk into a new array: a worker process cannot write the parent's."""
    return triad_numpy(b, c, SCALAR, np.empty(len(b)))


class TriadInput:
    """The inputs ``b`` and ``c``, and the arrays the variants write ``out`` into."""

    def __init__(self, b, c):
        self.b, self.c = b, c
        self.scratch = np.full(len(b), np.nan)  # np.full writes every page: first touch paid here
        self._called = set()

    def output(self, variant, n_workers):
        """The array a call writes and returns: new and NaN on a (variant, n_workers) first call."""
        if (variant, n_workers) in self._called:
            return self.scratch
        self._called.add((variant, n_workers))
        return np.full(len(self.b), np.nan)


def make_input(size, seed=0):
    """Return b and c, uniform in [0, 1), and the scratch output, already written once."""
    if size < MIN_SIZE:
        raise ValueError(f"size {size} is below this recipe's smallest size, {MIN_SIZE}: no elements")
    rng = np.random.default_rng(seed)
    return TriadInput(rng.random(size), rng.random(size))


def _bounds(size):
    return np.linspace(0, size, N_CHUNKS + 1).astype(np.int64)


def _slices(size):
    return [slice(lo, hi) for lo, hi in pairwise(_bounds(size).tolist())]


def _fill(kernel, data, out, map_fn=map):
    """Run ``kernel`` on every chunk, writing into ``out``; ``map_fn`` decides where."""
    b, c = data.b, data.c
    list(map_fn(lambda s: kernel(b[s], c[s], SCALAR, out[s]), _slices(len(out))))
    return out


def _gather(chunks, out):
    """Copy each chunk's values (a list or an array), in chunk order, into ``out``."""
    for s, values in zip(_slices(len(out)), chunks, strict=True):
        out[s] = values
    return out


def serial(data, n_workers):
    b, c = data.b, data.c
    out = data.output("serial", n_workers)
    return _gather((triad_lists(b[s], c[s]) for s in _slices(len(b))), out)


def python_threads(data, n_workers):
    b, c = data.b, data.c
    out = data.output("python_threads", n_workers)
    with ThreadPoolExecutor(n_workers) as pool:
        return _gather(pool.map(lambda s: triad_lists(b[s], c[s]), _slices(len(b))), out)


def numpy_(data, n_workers):
    return _fill(triad_numpy, data, data.output("numpy", n_workers))


def numpy_threads(data, n_workers):
    with ThreadPoolExecutor(n_workers) as pool:
        return _fill(triad_numpy, data, data.output("numpy_threads", n_workers), pool.map)


def numba_(data, n_workers):
    return _fill(triad_numba, data, data.output("numba", n_workers))


def numba_threads(data, n_workers):
    with ThreadPoolExecutor(n_workers) as pool:
        return _fill(triad_numba, data, data.output("numba_threads", n_workers), pool.map)


def numba_prange(data, n_workers):
    out = data.output("numba_prange", n_workers)
    numba.set_num_threads(n_workers)
    return _triad_prange(data.b, data.c, SCALAR, _bounds(len(out)), out)


def joblib_processes(data, n_workers):
    b, c = data.b, data.c
    out = data.output("joblib_processes", n_workers)
    tasks = (delayed(triad_lists)(b[s], c[s]) for s in _slices(len(b)))
    return _gather(Parallel(n_jobs=n_workers, prefer="processes")(tasks), out)


def numpy_processes(data, n_workers):
    b, c = data.b, data.c
    out = data.output("numpy_processes", n_workers)
    tasks = (delayed(triad_new)(b[s], c[s]) for s in _slices(len(b)))
    return _gather(Parallel(n_jobs=n_workers, prefer="processes")(tasks), out)


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
NOT_APPLICABLE = {
    "python_interpreters": (
        "its kernel reads the module global SCALAR, so it would be pickled by name, and each interpreter "
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
    print(f"triad over {SIZES['small']} elements, {bytes_moved(SIZES['small']) / 1e6:.1f} MB moved per call")
    for name, variant in VARIANTS.items():
        variant(data, os.cpu_count() or 1)  # untimed: numba compiles and pools start on a first call
        start = time.perf_counter()
        result = variant(data, os.cpu_count() or 1)
        elapsed = time.perf_counter() - start
        agrees = np.array_equal(result, expected)
        print(f"{name:18} {elapsed:8.3f} s  agrees: {agrees}")
