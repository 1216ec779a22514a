"""Distance from every point to its nearest neighbour: O(n^2) pairs, even work per row.

Workload
--------
``size`` points drawn uniformly in the unit cube; for each point, the
distance to the nearest other point, found by measuring the distance to every
other point (brute force, ``size * (size - 1)`` pairs). It is CPU-bound: the
coordinates fit in cache and each pair costs three subtractions, three
multiply-adds and a comparison. Every row costs the same, so the rows are cut
into ``N_BLOCKS`` equal blocks fixed by the workload and any split balances.
The result is one float per point, and the minimum picks the same pair in
every variant: only the last bits of one square root can differ (see
``RTOL``).

The coordinates come as one row per axis, shape ``(3, size)``: the kernel
reads three contiguous rows, and ``cdist`` takes the transposed view, one
point per row.

What the GIL does to each variant
---------------------------------
serial: the blocks one after the other, a pure-Python double loop over the
block's rows and all points (coordinates as Python lists); the reference.

python_threads: blocks on a thread pool. The double loop is bytecode, so the
GIL lets one thread run at a time: no speedup.

python_threads_copied: the same, each block reading its own copy of the
points' floats. With the GIL it only adds the copies; on a free-threaded
build (3.14t) it stops both threads from writing the reference counts of the
same float objects, which they read at every pair.

numpy: each block as arrays: the block's coordinates minus all points',
broadcast to a (block rows, size) array of squared distances, then the
minimum of each row; on one thread.

numpy_threads: the same, blocks on a thread pool. Each step is a ufunc or
reduction over the whole (block rows, size) array, and NumPy releases the
GIL inside those, so the blocks run at once. Each block also writes and
reads several temporaries of that size, so memory traffic is part of the
cost.

numba: the kernel compiled with ``numba.njit``, on one thread.

numba_threads: the kernel compiled with ``nogil=True``, blocks on a thread
pool; a block's whole double loop runs without the GIL.

numba_prange: a ``numba.prange`` loop over the blocks on numba's own threads.

scipy_threads: ``scipy.spatial.distance.cdist`` from the block's points to
all points, then each row's minimum off the diagonal, blocks on a thread
pool. For the Euclidean metric ``cdist`` calls SciPy's C++ code, which
releases the GIL with ``py::gil_scoped_release`` around the whole distance
loop (``cdist_unweighted`` in ``scipy/spatial/src/distance_pybind.cpp``), so
the blocks run at once. It computes and stores every distance, square root
included, before the minimum is taken.

joblib_processes: the pure-Python kernel on blocks in loky worker processes,
one GIL each; every task receives the coordinates and returns its block's
distances.

python_interpreters: does not apply on any Python: its kernel reads the module
global math, so it would be pickled by name, and each interpreter would then
import this module, which imports NumPy, and NumPy cannot be loaded in a
subinterpreter (InterpreterPoolExecutor sends a function that reads no global
as its code, any other by name).

Measured
--------
Every variant's figures, with their 95% intervals and a plot: ``docs/recipes/pairwise_distances.md``,
rendered from the committed runs in ``results/``.

Free-threaded Python 3.14t
--------------------------
On a free-threaded build (3.14t) python_threads runs without a GIL, and scales fully only if its
threads share no object in the hot loop (docs/free-threaded.md). Every block reads all the points'
floats from lists both threads share, and a free-threaded build writes their reference counts from
both threads; python_threads_copied, each block on its own copy of the floats, shows what that
costs. Its figures on 3.11, 3.14 and 3.14t: ``docs/recipes/pairwise_distances.md``.

Run it: ``python recipes/pairwise_distances.py``. ``python -m cookbook.run pairwise_distances`` times it
at the medium size, where each call is short enough that the thread and process pools'
per-call costs weigh on their efficiency; ``--size large`` shows how they scale.
"""

import math
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise

import numpy as np
from joblib import Parallel, delayed
from scipy.spatial.distance import cdist

try:
    import numba
except ImportError:  # numba has no wheels for some Pythons (none for 3.13t): its variants are skipped
    numba = None

SIZES = {"small": 600, "medium": 850, "large": 4500}  # number of points
MIN_SIZE = 2  # one point has no nearest other point (its distance would be inf)
N_BLOCKS = 32  # blocks of rows, fixed by the workload
N_TASKS = N_BLOCKS  # one task per block
# Each distance is the square root of three squares added up. The kernel,
# NumPy, numba and SciPy's cdist all add them in axis order, and agreed to the
# bit at sizes small..large (measured 2026-12-02). A build that fuses
# multiply-adds (clang does by default, as on Apple silicon) or reorders the
# sum moves the last bit or two: 1e-15 is about 4 ulps of a distance.
RTOL = 1e-15


def memory_bytes(size):
    """Peak bytes: points and distances (32 a point) plus serial's lists (3 floats at 32) or numpy's three
    (block rows, size) float64 temporaries, whichever is more; each extra numpy_threads thread holds 3 more.
    """
    block = -(-size // N_BLOCKS)  # rows in the largest block
    return 32 * size + max(3 * 32 * size, 3 * 8 * block * size)


def nearest_distances(xs, ys, zs, start, stop, out):
    """Set ``out[i - start]`` to the distance from point ``i`` to its nearest other point."""
    n = len(xs)
    for i in range(start, stop):
        x, y, z = xs[i], ys[i], zs[i]
        best = math.inf
        for j in range(n):
            if j != i:
                dx = xs[j] - x
                dy = ys[j] - y
                dz = zs[j] - z
                d2 = dx * dx + dy * dy + dz * dz
                if d2 < best:
                    best = d2
        out[i - start] = math.sqrt(best)
    return out


if numba:  # without it, the numba variants are skipped (see below VARIANTS)
    nearest_distances_numba = numba.njit(nogil=True, cache=True)(nearest_distances)

    @numba.njit(parallel=True, cache=True)
    def _nearest_distances_prange(coords, bounds, out):
        for block in numba.prange(len(bounds) - 1):
            start, stop = bounds[block], bounds[block + 1]
            nearest_distances_numba(coords[0], coords[1], coords[2], start, stop, out[start:stop])
        return out


def nearest_distances_numpy(coords, start, stop, out):
    """Fill ``out`` like ``nearest_distances``, one (block rows, size) array at a time."""
    d2 = np.zeros((stop - start, coords.shape[1]))
    for axis in coords:  # same order of additions as the kernel
        diff = axis[None, :] - axis[start:stop, None]
        d2 += diff * diff
    d2[np.arange(stop - start), np.arange(start, stop)] = np.inf  # not its own neighbour
    np.sqrt(d2.min(axis=1), out=out)
    return out


def nearest_distances_scipy(coords, start, stop, out):
    """Fill ``out`` like ``nearest_distances``, with ``cdist`` from the block to all points."""
    points = coords.T
    distances = cdist(points[start:stop], points)
    distances[np.arange(stop - start), np.arange(start, stop)] = np.inf
    distances.min(axis=1, out=out)
    return out


def block_distances(coords, start, stop):
    """Run the pure-Python kernel on one block and return its distances (for processes)."""
    xs, ys, zs = coords.tolist()
    return nearest_distances(xs, ys, zs, start, stop, np.empty(stop - start))


def make_input(size, seed=0):
    """Return ``size`` points uniform in the unit cube, one row per axis."""
    if size < MIN_SIZE:
        raise ValueError(
            f"size {size} is below this recipe's smallest size, {MIN_SIZE}: "
            "a point needs another point to have a nearest one"
        )
    return np.random.default_rng(seed).random((3, size))


def _bounds(n_points):
    return np.linspace(0, n_points, N_BLOCKS + 1).astype(np.int64)


def _run_blocks(kernel, args, n_points, map_fn=map):
    """Call ``kernel(*args, start, stop, out[start:stop])`` per block, ``map_fn`` deciding where."""
    out = np.empty(n_points)
    blocks = pairwise(_bounds(n_points).tolist())
    list(map_fn(lambda block: kernel(*args, *block, out[block[0] : block[1]]), blocks))
    return out


def serial(coords, n_workers):
    return _run_blocks(nearest_distances, coords.tolist(), coords.shape[1])


def python_threads(coords, n_workers):
    with ThreadPoolExecutor(n_workers) as pool:
        return _run_blocks(nearest_distances, coords.tolist(), coords.shape[1], pool.map)


def nearest_distances_copied(xs, ys, zs, start, stop, out):
    """``nearest_distances`` on copies of the floats (``x + 0.0`` is a new object): none shared."""
    copies = ([x + 0.0 for x in axis] for axis in (xs, ys, zs))
    return nearest_distances(*copies, start, stop, out)


def python_threads_copied(coords, n_workers):
    with ThreadPoolExecutor(n_workers) as pool:
        return _run_blocks(nearest_distances_copied, coords.tolist(), coords.shape[1], pool.map)


def numpy_(coords, n_workers):
    return _run_blocks(nearest_distances_numpy, [coords], coords.shape[1])


def numpy_threads(coords, n_workers):
    with ThreadPoolExecutor(n_workers) as pool:
        return _run_blocks(nearest_distances_numpy, [coords], coords.shape[1], pool.map)


def numba_(coords, n_workers):
    return _run_blocks(nearest_distances_numba, coords, coords.shape[1])


def numba_threads(coords, n_workers):
    with ThreadPoolExecutor(n_workers) as pool:
        return _run_blocks(nearest_distances_numba, coords, coords.shape[1], pool.map)


def numba_prange(coords, n_workers):
    numba.set_num_threads(n_workers)
    return _nearest_distances_prange(coords, _bounds(coords.shape[1]), np.empty(coords.shape[1]))


def scipy_threads(coords, n_workers):
    with ThreadPoolExecutor(n_workers) as pool:
        return _run_blocks(nearest_distances_scipy, [coords], coords.shape[1], pool.map)


def joblib_processes(coords, n_workers):
    bounds = _bounds(coords.shape[1]).tolist()
    tasks = (delayed(block_distances)(coords, a, b) for a, b in pairwise(bounds))
    return np.concatenate(Parallel(n_jobs=n_workers, prefer="processes")(tasks))


VARIANTS = {
    "serial": serial,
    "python_threads": python_threads,
    "python_threads_copied": python_threads_copied,
    "numpy": numpy_,
    "numpy_threads": numpy_threads,
    "numba": numba_,
    "numba_threads": numba_threads,
    "numba_prange": numba_prange,
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
        print(f"{name:18} {elapsed:8.3f} s  agrees: {np.allclose(result, expected, rtol=RTOL, atol=0)}")
