"""March the 2-D heat equation over time steps: a stencil with a barrier per step.

Workload
--------
A ``size`` x ``size`` float64 grid, random values in [0, 1), takes ``STEPS``
explicit steps of the heat equation: every interior cell becomes
``c + ALPHA * (up + down + left + right - 4*c)`` of the previous grid, and
the edge cells keep their values. Every variant keeps two grids (old and
new) and swaps them after each step. A step is seven floating-point operations
per cell, one 8-byte read and one write, on grids that fit in the CPU's
caches here (1.6 MB each at the large size): CPU-bound in pure Python,
short in compiled code. And each step needs the whole previous one, so the
work is a sequence of short rounds, each closed by a barrier: what a variant
pays per step to hand out work and wait for it weighs as much as the
arithmetic.

The interior rows are cut into ``N_BANDS`` bands fixed by the workload; a
band reads its own rows of the old grid plus one halo row from each
neighbouring band. Each cell reads only the old grid, so the split cannot
change the answer. Python, NumPy and numba evaluate the same expression in
the same order, so their grids agree to the last bit. ``scipy.ndimage``
applies the update as a 3 x 3 kernel, summing the five weighted terms in its
own order: it agrees only within ``ATOL`` (see below).

What the GIL does to each variant
---------------------------------
serial: the pure-Python kernel over lists of rows, whole interior per step;
the reference.

python_threads: the bands of each step on a thread pool, one ``pool.map``
per step as the barrier. The kernel is bytecode: the GIL lets one thread
run at a time, no speedup.

python_threads_pinned: the same kernel, but each thread keeps the same
bands for every step, with a ``threading.Barrier`` between steps: a band's
rows, and the floats written into them, stay with the thread (and core)
that made them. With the GIL it changes little; without it, it helps the
threads scale (see "Free-threaded Python 3.14t" below).

numpy: the update as whole-array slicing, the whole interior in one
expression per step, on one thread.

numpy_threads: the same expression on each band, bands on a thread pool,
one ``pool.map`` per step. NumPy releases the GIL inside each operation on
a band of 500 elements or more (at the large size a band has 56 rows of 448
cells; at the small size about 4 of 30, too few), but holds it between
operations and for the pool's hand-offs, which every step pays again.

numba: the kernel compiled with ``numba.njit``, one thread, called once per
step.

numba_threads: the kernel compiled with ``nogil=True``, bands on a thread
pool, one ``pool.map`` per step: each band runs without the GIL, but a
step's compiled work is short, so the pool's hand-off per step weighs on it.

numba_prange: the whole time loop inside one ``parallel=True`` function,
a ``numba.prange`` over the bands per step on numba's own threads: the
barrier is numba's, and no step returns to Python.

scipy: ``scipy.ndimage.correlate`` with the 5-point kernel, one call per
step on the whole grid, one thread; the edges it computes from its padding
are thrown away.

scipy_threads: ``scipy.ndimage.correlate`` on each band plus its halo rows,
bands on a thread pool, one ``pool.map`` per step. The filter's C loop runs
with the GIL released (``NI_Correlate`` in scipy/ndimage/src/ni_filters.c
wraps it in ``NPY_BEGIN_THREADS``; scipy PR #3943), so bands can overlap.

joblib_processes: the pure-Python kernel in loky worker processes, one
``Parallel`` call per step: every step pickles each band with its halo rows
to a worker (a band is below joblib's 1 MB ``max_nbytes`` at these sizes, so
it is not memory-mapped) and the band's new rows back, and waits for all.

memmap_processes: the same kernel in loky workers, but both grids are
``np.memmap`` files opened ``w+`` in a temporary folder: joblib pickles a
memmap-backed array as its file name, offset and shape, and the workers
open it ``r+`` (joblib docs, "Working with numerical data in shared memory
(memmapping)"), so each band is read from and written to the shared files
and only those small messages cross per step. The per-step ``Parallel``
call, its barrier and the conversion to and from lists remain. The folder
is removed when the variant returns or raises.

memmap_processes@dask: not run. On a dask cluster (``--backend dask``) the
memmap views arrive in the workers as plain in-memory copies (checked: the
workers saw ``ndarray``, not ``memmap``, and the main process's file kept
its zeros), so every write is lost; passing arrays by file name is loky's
memmapping, not joblib's in general. ``joblib_processes`` runs on dask.

python_interpreters: does not apply on any Python: its kernel reads the module
global ALPHA, so it would be pickled by name, and each interpreter would then
import this module, which imports NumPy, and NumPy cannot be loaded in a
subinterpreter (InterpreterPoolExecutor sends a function that reads no global
as its code, any other by name).

Measured
--------
Every variant's figures, with their 95% intervals and a plot: ``docs/recipes/heat_stencil.md``,
rendered from the committed runs in ``results/``.

Free-threaded Python 3.14t
--------------------------
On a free-threaded build (3.14t) python_threads runs without a GIL, and scales fully only if its
threads share no object in the hot loop (docs/free-threaded.md). Each step's bands go to whichever
thread is free, so the floats a thread writes into a row are freed a step later by the other one,
and every cell reads the global ALPHA: both write reference counts from two cores.
python_threads_pinned keeps each band on one thread, which removes the first of the two. Its figures
on 3.11, 3.14 and 3.14t: ``docs/recipes/heat_stencil.md``.

Run it: ``python recipes/heat_stencil.py``. ``python -m cookbook.run heat_stencil`` times it at the
medium size, where each call is short enough that the thread and process pools'
per-call costs weigh on their efficiency; ``--size large`` shows how they scale.
"""

import os
import shutil
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise, repeat

import numpy as np
from joblib import Parallel, delayed
from scipy import ndimage

try:
    import numba
except ImportError:  # numba has no wheels for some Pythons (none for 3.13t): its variants are skipped
    numba = None

SIZES = {"small": 32, "medium": 96, "large": 450}  # the grid's side
STEPS = 100
ALPHA = 0.2  # below 0.25, so the explicit step is stable
N_BANDS = 8  # fixed by the workload, not by the workers
N_TASKS = N_BANDS  # per step; python_threads_pinned gives each thread a fixed group of bands
MIN_SIZE = N_BANDS + 2  # an interior row per band: the process variants fail on an empty band
KERNEL = np.array([[0.0, ALPHA, 0.0], [ALPHA, 1.0 - 4.0 * ALPHA, ALPHA], [0.0, ALPHA, 0.0]])
# Only the scipy variants differ from serial, by rounding: ndimage sums the
# five weighted terms in another order. A step is a weighted average
# (weights >= 0, summing to 1) of values in [0, 1], which never enlarges a
# difference: at most 5.6e-16 after STEPS steps at sizes small..large
# (measured 2026-12-02); 1e-14 leaves a margin of 18. Absolute, since the
# values have no scale for a relative bound to use.
ATOL = 1e-14


def memory_bytes(size):
    """Peak memory a run at ``size`` needs: the size x size grid and serial's two copies as lists.

    A Python float in a list takes about 32 bytes: the object and its slot in the list.
    """
    return 8 * size * size + 2 * 32 * size * size


def heat_rows(old, new, start, stop):
    """Write one explicit heat step of ``old`` into rows ``start:stop`` of ``new``, edge columns kept."""
    n_cols = len(old[0])
    for i in range(start, stop):
        up = old[i - 1]
        row = old[i]
        down = old[i + 1]
        out = new[i]
        for j in range(1, n_cols - 1):
            out[j] = row[j] + ALPHA * (up[j] + down[j] + row[j - 1] + row[j + 1] - 4.0 * row[j])


if numba:  # without it, the numba variants are skipped (see below VARIANTS)
    heat_rows_numba = numba.njit(nogil=True, cache=True)(heat_rows)

    @numba.njit(parallel=True, cache=True)
    def _heat_prange(grid, bands, steps):
        old = grid.copy()
        new = grid.copy()
        for _ in range(steps):
            for band in numba.prange(len(bands) - 1):
                heat_rows_numba(old, new, bands[band], bands[band + 1])
            old, new = new, old
        return old


def heat_rows_numpy(old, new, start, stop):
    """Like ``heat_rows``, as one whole-array expression over the rows."""
    c = old[start:stop, 1:-1]
    up, down = old[start - 1 : stop - 1, 1:-1], old[start + 1 : stop + 1, 1:-1]
    left, right = old[start:stop, :-2], old[start:stop, 2:]
    new[start:stop, 1:-1] = c + ALPHA * (up + down + left + right - 4.0 * c)


def heat_rows_scipy(old, new, start, stop):
    """Like ``heat_rows``, with ``scipy.ndimage.correlate`` on the rows and their halo rows."""
    band = ndimage.correlate(old[start - 1 : stop + 1], KERNEL)
    new[start:stop, 1:-1] = band[1:-1, 1:-1]  # the halo rows and edge columns saw ndimage's padding


def make_input(size, seed=0):
    """Return the starting grid and the row index where each band starts (the last: where it ends)."""
    if size < MIN_SIZE:
        raise ValueError(
            f"size {size} is below this recipe's smallest size, {MIN_SIZE}: "
            "the size - 2 interior rows must give each of the N_BANDS bands one"
        )
    grid = np.random.default_rng(seed).random((size, size))
    bands = np.linspace(1, size - 1, N_BANDS + 1).astype(np.int64)
    return grid, bands


def _march(kernel, old, new, bands, map_fn=map):
    """Take STEPS steps; ``map_fn`` runs one step's bands and returns when all are done."""
    starts, stops = bands[:-1], bands[1:]
    for _ in range(STEPS):
        list(map_fn(kernel, repeat(old), repeat(new), starts, stops))
        old, new = new, old
    return old


def serial(data, n_workers):
    grid, bands = data
    return np.array(_march(heat_rows, grid.tolist(), grid.tolist(), bands[[0, -1]].tolist()))


def python_threads(data, n_workers):
    grid, bands = data
    with ThreadPoolExecutor(n_workers) as pool:
        return np.array(_march(heat_rows, grid.tolist(), grid.tolist(), bands.tolist(), pool.map))


def python_threads_pinned(data, n_workers):
    grid, bands = data
    bands = bands.tolist()
    grids = [grid.tolist(), grid.tolist()]  # step k reads grids[k % 2] and writes the other
    groups = [g.tolist() for g in np.array_split(np.arange(len(bands) - 1), n_workers)]  # thread t's bands
    step_done = threading.Barrier(n_workers)

    def march(group):
        try:
            for step in range(STEPS):
                old, new = grids[step % 2], grids[(step + 1) % 2]
                for band in group:
                    heat_rows(old, new, bands[band], bands[band + 1])
                step_done.wait()
        except BaseException:
            step_done.abort()  # the other threads raise BrokenBarrierError instead of waiting forever
            raise

    with ThreadPoolExecutor(n_workers) as pool:
        list(pool.map(march, groups))
    return np.array(grids[STEPS % 2])


def numpy_(data, n_workers):
    grid, bands = data
    return _march(heat_rows_numpy, grid.copy(), grid.copy(), bands[[0, -1]].tolist())


def numpy_threads(data, n_workers):
    grid, bands = data
    with ThreadPoolExecutor(n_workers) as pool:
        return _march(heat_rows_numpy, grid.copy(), grid.copy(), bands.tolist(), pool.map)


def numba_(data, n_workers):
    grid, bands = data
    return _march(heat_rows_numba, grid.copy(), grid.copy(), bands[[0, -1]].tolist())


def numba_threads(data, n_workers):
    grid, bands = data
    with ThreadPoolExecutor(n_workers) as pool:
        return _march(heat_rows_numba, grid.copy(), grid.copy(), bands.tolist(), pool.map)


def numba_prange(data, n_workers):
    grid, bands = data
    numba.set_num_threads(n_workers)
    return _heat_prange(grid, bands, STEPS)


def scipy_(data, n_workers):
    grid, bands = data
    return _march(heat_rows_scipy, grid.copy(), grid.copy(), bands[[0, -1]].tolist())


def scipy_threads(data, n_workers):
    grid, bands = data
    with ThreadPoolExecutor(n_workers) as pool:
        return _march(heat_rows_scipy, grid.copy(), grid.copy(), bands.tolist(), pool.map)


def _band_step(rows):
    """Return the new rows of a band, given its old rows with one halo row above and below."""
    old, new = rows.tolist(), rows.tolist()
    heat_rows(old, new, 1, len(old) - 1)
    return np.array(new[1:-1])


def _band_step_shared(rows, out):
    """Like ``_band_step``, writing the band into ``out``, a view of the shared new grid."""
    out[:] = _band_step(rows)


def joblib_processes(data, n_workers):
    grid, bands = data
    old = grid
    with Parallel(n_jobs=n_workers, prefer="processes") as parallel:  # one pool for every step
        for _ in range(STEPS):
            new_bands = parallel(delayed(_band_step)(old[a - 1 : b + 1]) for a, b in pairwise(bands.tolist()))
            old = np.vstack([old[:1], *new_bands, old[-1:]])
    return old


def memmap_processes(data, n_workers):
    grid, bands = data
    folder = tempfile.mkdtemp(prefix="heat_stencil_")
    try:
        old = np.memmap(os.path.join(folder, "old"), grid.dtype, "w+", shape=grid.shape)
        new = np.memmap(os.path.join(folder, "new"), grid.dtype, "w+", shape=grid.shape)
        old[:] = grid
        new[:] = grid  # the edges, which no step writes
        edges = list(pairwise(bands.tolist()))
        # max_nbytes=None: no automatic dumping; the memmap views still go by file name
        with Parallel(n_jobs=n_workers, prefer="processes", max_nbytes=None) as parallel:
            for _ in range(STEPS):
                parallel(delayed(_band_step_shared)(old[a - 1 : b + 1], new[a:b]) for a, b in edges)
                old, new = new, old
        return np.array(old)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


NOT_APPLICABLE = {
    "python_interpreters": (
        "its kernel reads the module global ALPHA, so it would be pickled by name, and each interpreter "
        "would then import this module, which imports NumPy, and NumPy cannot be loaded in a "
        "subinterpreter"
    ),
    "memmap_processes@dask": "dask pickles the memmap views as copies, so the workers' writes are lost",
}
VARIANTS = {
    "serial": serial,
    "python_threads": python_threads,
    "python_threads_pinned": python_threads_pinned,
    "numpy": numpy_,
    "numpy_threads": numpy_threads,
    "numba": numba_,
    "numba_threads": numba_threads,
    "numba_prange": numba_prange,
    "scipy": scipy_,
    "scipy_threads": scipy_threads,
    "joblib_processes": joblib_processes,
    "memmap_processes": memmap_processes,
}
if numba is None:
    NOT_APPLICABLE |= {v: "numba is not installed for this Python" for v in VARIANTS if v.startswith("numba")}
    VARIANTS = {v: run for v, run in VARIANTS.items() if v not in NOT_APPLICABLE}

if __name__ == "__main__":
    import time

    data = make_input(SIZES["small"])
    expected = serial(data, 1)
    for name, variant in VARIANTS.items():
        variant(data, os.cpu_count() or 1)  # untimed: numba compiles and pools start on a first call
        start = time.perf_counter()
        result = variant(data, os.cpu_count() or 1)
        elapsed = time.perf_counter() - start
        print(f"{name:18} {elapsed:8.3f} s  agrees: {np.allclose(result, expected, rtol=0, atol=ATOL)}")
