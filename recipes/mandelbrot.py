"""Escape-time counts of the Mandelbrot set: uneven rows, a load-balance lesson.

Workload
--------
A grid of ``size`` columns by ``size * 2 // 3`` rows over the complex plane
[-2.1, 0.7] x [-0.95i, 0.95i]. Each pixel iterates ``z = z*z + c`` until
``|z| > 2`` or ``MAX_ITER`` steps; the result is the integer array of step
counts, so agreement is exact. The input carries the grid and the step limit,
so another window or limit needs only another ``make_input``. It is CPU-bound: a few floating-point
operations per step and nothing read from memory. Pixels inside the set cost
``MAX_ITER`` steps and those far outside one or two, so rows through the
middle of the set cost far more than rows at the edge: a pool that cuts the
grid into a few equal blocks leaves some workers idle. Every variant cuts it
into ``N_BANDS`` bands of rows, more bands than workers, and lets idle
workers take the next one. The kernel spells out the real and imaginary
parts so that Python, NumPy and numba do the same floating-point operations
in the same order, and so count the same steps.

What the GIL does to each variant
---------------------------------
serial: the bands one after the other in a pure-Python loop; the reference.
The pure-Python variants read the coordinates as lists of floats: a Python
loop over a NumPy array's items makes a NumPy scalar of each, which is slower.

python_threads: bands on a thread pool; the loop is bytecode, the GIL lets
one thread run at a time: no speedup.

numpy: each band iterated as whole arrays, keeping only the pixels that have
not escaped yet, on one thread.

numpy_threads: the same on a thread pool. Each step is a few ufunc calls on
the band's pixels that are still running; NumPy releases the GIL inside them,
but holds it between calls, and those calls shrink as pixels escape.

numba: the kernel compiled with ``numba.njit``, on one thread.

numba_threads: the kernel compiled with ``nogil=True``, bands on a thread
pool; each band runs without the GIL.

numba_prange: a ``numba.prange`` loop over the bands on numba's own threads.

joblib_processes: the pure-Python kernel in loky worker processes; each band
comes back to the parent pickled.

python_interpreters: on Python 3.14 and later, bands on an
``InterpreterPoolExecutor``, whose workers are threads of this process that
each run an interpreter of its own, with its own GIL. Each task's function
and arguments are pickled into the worker's interpreter, so a band goes as
lists and comes back as lists: NumPy arrays cannot be unpickled there, since
NumPy cannot be loaded in a subinterpreter. ``escape_counts`` reads no
global (the step limit is an argument), so it travels as its code; a
function that read a global would be pickled by name, and each interpreter
would import this module, which fails for the same reason.

Measured
--------
Every variant's figures, with their 95% intervals and a plot: ``docs/recipes/mandelbrot.md``,
rendered from the committed runs in ``results/``.

Free-threaded Python 3.14t
--------------------------
On a free-threaded build (3.14t) python_threads runs without a GIL, and scales fully only if its
threads share no object in the hot loop (docs/free-threaded.md). Its loop reads the coordinates item
by item from lists that both threads share; not probed further. Its figures on 3.11, 3.14 and
3.14t: ``docs/recipes/mandelbrot.md``.

Run it: ``python recipes/mandelbrot.py``. ``python -m cookbook.run mandelbrot`` times it at the
medium size, where each call is short enough that the thread and process pools'
per-call costs weigh on their efficiency; ``--size large`` shows how they scale.
"""

from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise, repeat

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

SIZES = {"small": 80, "medium": 84, "large": 400}
MAX_ITER = 200
MIN_SIZE = 1  # one pixel; below 48 (32 rows) some bands are empty, which every variant handles
N_BANDS = 32  # many more bands than workers, so no worker waits on one slow band
N_TASKS = N_BANDS


def memory_bytes(size):
    """Peak memory a run at ``size`` needs: the escape counts, one int64 per pixel, and the axes."""
    rows = max(1, size * 2 // 3)
    return 8 * (rows * size + rows + size)


def escape_counts(xs, ys, out, max_iter):
    """Fill ``out[i][j]`` with the escape step of the point ``xs[j] + ys[i]*1j``, at most ``max_iter``."""
    for i in range(len(ys)):
        cy = ys[i]
        row = out[i]
        for j in range(len(xs)):
            cx = xs[j]
            x = 0.0
            y = 0.0
            steps = max_iter
            for step in range(max_iter):
                x2 = x * x
                y2 = y * y
                if x2 + y2 > 4.0:
                    steps = step
                    break
                y = 2.0 * x * y + cy
                x = x2 - y2 + cx
            row[j] = steps
    return out


if numba:  # without it, the numba variants are skipped (see below VARIANTS)
    escape_counts_numba = numba.njit(nogil=True, cache=True)(escape_counts)

    @numba.njit(parallel=True, cache=True)
    def _escape_counts_prange(xs, ys, bands, out, max_iter):
        for band in numba.prange(len(bands) - 1):
            start, stop = bands[band], bands[band + 1]
            escape_counts_numba(xs, ys[start:stop], out[start:stop], max_iter)
        return out


def escape_counts_numpy(xs, ys, out, max_iter):
    """Fill ``out`` like ``escape_counts``, iterating whole arrays of pixels."""
    cx, cy = (grid.ravel() for grid in np.meshgrid(xs, ys))
    counts = out.reshape(-1)
    counts[:] = max_iter
    running = np.arange(cx.size)  # pixels that have not escaped yet
    x = np.zeros(cx.size)
    y = np.zeros(cx.size)
    for step in range(max_iter):
        x2 = x * x
        y2 = y * y
        escaped = x2 + y2 > 4.0
        counts[running[escaped]] = step
        keep = ~escaped
        running, cx, cy = running[keep], cx[keep], cy[keep]
        x, y, x2, y2 = x[keep], y[keep], x2[keep], y2[keep]
        y = 2.0 * x * y + cy
        x = x2 - y2 + cx
    return out


def make_input(size, seed=0):
    """Return the grid's coordinates, the row index where each band starts, and the step limit."""
    if size < MIN_SIZE:
        raise ValueError(f"size {size} is below this recipe's smallest size, {MIN_SIZE}: no pixels")
    xs = np.linspace(-2.1, 0.7, size)
    ys = np.linspace(-0.95, 0.95, max(1, size * 2 // 3))
    bands = np.linspace(0, len(ys), N_BANDS + 1).astype(np.int64)
    return xs, ys, bands, MAX_ITER


def _run_bands(kernel, data, map_fn=map):
    """Run ``kernel`` on every band, with ``map_fn`` deciding where they run."""
    xs, ys, bands, max_iter = data
    out = np.empty((len(ys), len(xs)), dtype=np.int64)
    slices = [slice(start, stop) for start, stop in pairwise(bands.tolist())]
    list(map_fn(lambda rows: kernel(xs, ys[rows], out[rows], max_iter), slices))
    return out


def _lists(data):
    """The coordinates as lists, for the pure-Python kernel: a Python loop over NumPy scalars is slower."""
    xs, ys, bands, max_iter = data
    return xs.tolist(), ys.tolist(), bands, max_iter


def serial(data, n_workers):
    return _run_bands(escape_counts, _lists(data))


def python_threads(data, n_workers):
    with ThreadPoolExecutor(n_workers) as pool:
        return _run_bands(escape_counts, _lists(data), pool.map)


def numpy_(data, n_workers):
    return _run_bands(escape_counts_numpy, data)


def numpy_threads(data, n_workers):
    with ThreadPoolExecutor(n_workers) as pool:
        return _run_bands(escape_counts_numpy, data, pool.map)


def numba_(data, n_workers):
    return _run_bands(escape_counts_numba, data)


def numba_threads(data, n_workers):
    with ThreadPoolExecutor(n_workers) as pool:
        return _run_bands(escape_counts_numba, data, pool.map)


def numba_prange(data, n_workers):
    xs, ys, bands, max_iter = data
    numba.set_num_threads(n_workers)
    out = np.empty((len(ys), len(xs)), dtype=np.int64)
    return _escape_counts_prange(xs, ys, bands, out, max_iter)


def _band_counts(xs, ys, max_iter):
    return escape_counts(xs, ys, np.empty((len(ys), len(xs)), dtype=np.int64), max_iter)


def joblib_processes(data, n_workers):
    xs, ys, bands, max_iter = _lists(data)
    tasks = (delayed(_band_counts)(xs, ys[a:b], max_iter) for a, b in pairwise(bands.tolist()))
    return np.vstack(Parallel(n_jobs=n_workers, prefer="processes")(tasks))


def python_interpreters(data, n_workers):
    xs, ys, bands, max_iter = _lists(data)
    band_ys = [ys[a:b] for a, b in pairwise(bands.tolist())]
    outs = [[[0] * len(xs) for _ in rows] for rows in band_ys]
    with InterpreterPoolExecutor(n_workers) as pool:
        counts = pool.map(escape_counts, repeat(xs), band_ys, outs, repeat(max_iter))
        return np.array([row for band in counts for row in band], dtype=np.int64).reshape(len(ys), len(xs))


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
    for name, variant in VARIANTS.items():
        variant(data, os.cpu_count() or 1)  # untimed: numba compiles and pools start on a first call
        start = time.perf_counter()
        result = variant(data, os.cpu_count() or 1)
        elapsed = time.perf_counter() - start
        print(f"{name:20} {elapsed:8.3f} s  agrees: {np.array_equal(result, expected)}")
