"""Multiply many pairs of matrices: BLAS brings its own threads, an oversubscription lesson.

Workload
--------
``N_PRODUCTS`` independent products ``a[i] @ b[i]`` of ``size`` x ``size``
float64 matrices; the result is the stacked products. The textbook triple
loop does ``size**3`` multiply-adds per product and reads the same rows and
columns again and again from cache: CPU-bound. ``size`` stays small because
the pure-Python loop is the reference.

BLAS already runs on several threads. NumPy's bundled OpenBLAS starts one
thread per core and splits a large product between them; a small one it runs
on one thread (it picks the thread count from the product's size: on this
machine 96 x 96 products ran on one thread, 128 x 128 on two, judged by CPU
time over wall time). So at the large size, ``n_workers`` Python threads that
each call BLAS can ask for ``n_workers x BLAS threads`` threads on the same
cores: oversubscription. The fix is threadpoolctl:
``threadpool_limits(limits=cores // n_workers, user_api="blas")``, or, as
here, the same ``limit`` on a ``ThreadpoolController`` built once at import
(threadpoolctl's README: it saves searching the loaded libraries on every
call), around the threaded section. The limit is not per thread: OpenBLAS
built with the pthreads threading layer, as NumPy's is, keeps one
process-wide thread pool (threadpoolctl's ``limit`` docstring), so it is set
once, around the whole pool. A ``with`` limit inside each task would let the
first task to finish restore the default while the others still run.

The products here are sized for the pure-Python loop, so the BLAS variants
finish quickly. ``blas_grid`` times outer threads x inner BLAS threads on
bigger matrices, apart from the harness:
``python -c "from recipes.matmul_blas import *; print(blas_grid(make_input(600)))"``.

Entries are drawn from [0, 1), so every term of every dot product is
positive: no cancellation, and any summation order (BLAS blocks and fuses
its sums, the triple loop adds in order) gives a relative error of at most
about ``size * eps``.

What the GIL does to each variant
---------------------------------
serial: the triple loop in pure Python on nested lists, one product after
another; the reference.

python_threads: the products on a thread pool; the loop is bytecode, the GIL
lets one thread run at a time: no speedup.

numpy: ``a @ b`` per product on one Python thread, BLAS at its default
thread count. NumPy releases the GIL around the BLAS call (checked: a Python
thread kept counting during a long ``a @ b``); any parallelism here is
BLAS's own, at the large size only.

numpy_threads: the products on a thread pool with BLAS limited to
``cores // n_workers`` threads (at least 1) by one limit around the
pool: the fixed version. ``cores`` counts the cores this process may use
(``usable_cores``: its CPU affinity, which ``os.cpu_count()`` ignores).
``a @ b`` releases the GIL, so the products run at once and together use
about one thread per core.

numpy_threads_oversubscribed: the same pool with BLAS left at its default,
one thread per core for every call: the problem. At the large size each
Python thread's product asks for all the cores at once; at the small size
BLAS runs one thread per call anyway, and this is ``numpy_threads``.

numpy_processes: ``a @ b`` per product in loky worker processes. loky sets
``OPENBLAS_NUM_THREADS`` (and the OpenMP, MKL, BLIS, numba, numexpr
variables) to ``cpu_count() // n_jobs`` in each worker it starts, unless the
parent's environment already sets them (joblib's docs, "Avoiding
over-subscription of CPU resources", and ``_prepare_worker_env`` in
``joblib/_parallel_backends.py``): processes get the threadpoolctl fix for
free. The matrices travel to the workers pickled, and the products back.

numba: the same triple-loop source compiled with ``numba.njit``, one thread.

numba_threads: the kernel compiled with ``nogil=True``, one product per task
on a thread pool; each product runs without the GIL. numba's loops call no
BLAS, so nothing nests.

numba_prange: a ``numba.prange`` loop over the products on numba's threads.

joblib_processes: the pure-Python triple loop in loky worker processes, one
GIL each. loky's BLAS limit is set here too, but this kernel calls no BLAS.

python_interpreters: on Python 3.14 and later, the products on an
``InterpreterPoolExecutor``, whose workers are threads of this process that
each run an interpreter of its own, with its own GIL. Each task's function
and arguments are pickled into the worker's interpreter, so the matrices go
as nested lists and come back as lists: NumPy arrays cannot be unpickled
there, since NumPy cannot be loaded in a subinterpreter. ``matmul`` reads no
global, so it travels as its code.

Measured
--------
Every variant's figures, with their 95% intervals and a plot: ``docs/recipes/matmul_blas.md``,
rendered from the committed runs in ``results/``.

Free-threaded Python 3.14t
--------------------------
On a free-threaded build (3.14t) python_threads runs without a GIL, and scales fully only if its
threads share no object in the hot loop (docs/free-threaded.md). Each product's matrices are its own
lists: the threads share no object in the loop, and python_threads scales. Its figures on 3.11, 3.14
and 3.14t: ``docs/recipes/matmul_blas.md``.

Run it: ``python recipes/matmul_blas.py``. ``python -m cookbook.run matmul_blas`` times it at the
medium size, where each call is short enough that the thread and process pools'
per-call costs weigh on their efficiency; ``--size large`` shows how they scale.
"""

import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from joblib import Parallel, delayed
from threadpoolctl import ThreadpoolController

try:
    import numba
except ImportError:  # numba has no wheels for some Pythons (none for 3.13t): its variants are skipped
    numba = None

try:
    from concurrent.futures import InterpreterPoolExecutor
except ImportError:  # Python 3.13 and older: python_interpreters is skipped
    InterpreterPoolExecutor = None

# The matrix side. small stays in BLAS's one-thread range; the lessons on BLAS's threads are for large.
SIZES = {"small": 40, "medium": 52, "large": 150}
MIN_SIZE = 1  # 1 x 1 matrices
N_PRODUCTS = 16  # fixed by the workload: one task per product, more than workers
N_TASKS = N_PRODUCTS
# Finds the loaded BLAS once; threadpool_limits() would search the loaded libraries on every call.
BLAS = ThreadpoolController()
# Entries in [0, 1): no cancellation, so only BLAS's summation order differs:
# at most 1.7e-15 relative at sizes small..large, BLAS on 1 or 2 threads
# (measured 2026-12-02); 2e-14 leaves a margin of 12 (the a priori bound,
# size * eps, is 3e-14 at size 150).
RTOL = 2e-14


def usable_cores():
    """The cores this process may run on: its CPU affinity where the OS has one."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def memory_bytes(size):
    """Peak memory a run at ``size`` needs: four stacks of ``N_PRODUCTS`` size x size float64 matrices.

    The inputs ``a`` and ``b``, serial's products and ``np.stack``'s copy of them.
    """
    return 4 * 8 * N_PRODUCTS * size * size


def matmul(a, b, out):
    """Store ``a @ b`` in ``out`` with the textbook triple loop (lists or arrays)."""
    for i in range(len(a)):
        row = a[i]
        for j in range(len(b[0])):
            total = 0.0
            for k in range(len(b)):
                total += row[k] * b[k][j]
            out[i][j] = total
    return out


if numba:  # without it, the numba variants are skipped (see below VARIANTS)
    matmul_numba = numba.njit(nogil=True, cache=True)(matmul)

    @numba.njit(parallel=True, cache=True)
    def _matmul_prange(a, b, out):
        for i in numba.prange(a.shape[0]):
            matmul_numba(a[i], b[i], out[i])
        return out


def product_python(a, b):
    """Multiply two matrices with the pure-Python loop, on nested lists."""
    n = len(a)
    return np.array(matmul(a.tolist(), b.tolist(), [[0.0] * n for _ in range(n)]))


def product_blas(a, b):
    """Multiply two matrices with BLAS, at whatever thread count BLAS has now."""
    return a @ b


def make_input(size, seed=0):
    """Return ``N_PRODUCTS`` pairs of ``size`` x ``size`` matrices, entries in [0, 1)."""
    if size < MIN_SIZE:
        raise ValueError(f"size {size} is below this recipe's smallest size, {MIN_SIZE}: empty matrices")
    rng = np.random.default_rng(seed)
    return rng.random((N_PRODUCTS, size, size)), rng.random((N_PRODUCTS, size, size))


def serial(data, n_workers):
    a, b = data
    return np.stack([product_python(x, y) for x, y in zip(a, b, strict=True)])


def python_threads(data, n_workers):
    a, b = data
    with ThreadPoolExecutor(n_workers) as pool:
        return np.stack(list(pool.map(product_python, a, b)))


def numpy_(data, n_workers):
    a, b = data
    return np.stack([product_blas(x, y) for x, y in zip(a, b, strict=True)])


def numpy_threads(data, n_workers):
    a, b = data
    # Process-wide limit: set once around the pool, never inside the tasks.
    limits = max(1, usable_cores() // n_workers)
    with BLAS.limit(limits=limits, user_api="blas"), ThreadPoolExecutor(n_workers) as pool:
        return np.stack(list(pool.map(product_blas, a, b)))


def numpy_threads_oversubscribed(data, n_workers):
    a, b = data
    with ThreadPoolExecutor(n_workers) as pool:  # every call may start all BLAS threads
        return np.stack(list(pool.map(product_blas, a, b)))


def numpy_processes(data, n_workers):
    a, b = data
    tasks = (delayed(product_blas)(x, y) for x, y in zip(a, b, strict=True))
    return np.stack(Parallel(n_jobs=n_workers, prefer="processes")(tasks))


def numba_(data, n_workers):
    a, b = data
    out = np.empty_like(a)
    for x, y, o in zip(a, b, out, strict=True):
        matmul_numba(x, y, o)
    return out


def numba_threads(data, n_workers):
    a, b = data
    out = np.empty_like(a)
    with ThreadPoolExecutor(n_workers) as pool:
        list(pool.map(matmul_numba, a, b, out))  # each task fills its own slice of out
    return out


def numba_prange(data, n_workers):
    a, b = data
    numba.set_num_threads(n_workers)
    return _matmul_prange(a, b, np.empty_like(a))


def joblib_processes(data, n_workers):
    a, b = data
    tasks = (delayed(product_python)(x, y) for x, y in zip(a, b, strict=True))
    return np.stack(Parallel(n_jobs=n_workers, prefer="processes")(tasks))


def blas_grid(data, outer=(1, 2), inner=(1, 2), repeats=5):
    """Time every product on ``outer`` Python threads with BLAS at ``inner`` threads.

    Returns ``{(outer, inner): median seconds}``. Not run by the harness; give
    it matrices of 128 x 128 or more, or BLAS runs one thread whatever the limit.
    """
    a, b = data
    timings = {}
    for n_outer in outer:
        for n_inner in inner:
            with BLAS.limit(limits=n_inner, user_api="blas"), ThreadPoolExecutor(n_outer) as pool:
                list(pool.map(product_blas, a, b))  # warm up the pool and BLAS's threads
                times = []
                for _ in range(repeats):
                    start = time.perf_counter()
                    list(pool.map(product_blas, a, b))
                    times.append(time.perf_counter() - start)
            timings[n_outer, n_inner] = statistics.median(times)
    return timings


def python_interpreters(data, n_workers):
    a, b = data
    outs = [[[0.0] * len(y[0]) for _ in x] for x, y in zip(a, b, strict=True)]
    with InterpreterPoolExecutor(n_workers) as pool:
        return np.array(list(pool.map(matmul, a.tolist(), b.tolist(), outs)))


VARIANTS = {
    "serial": serial,
    "python_threads": python_threads,
    "numpy": numpy_,
    "numpy_threads": numpy_threads,
    "numpy_threads_oversubscribed": numpy_threads_oversubscribed,
    "numpy_processes": numpy_processes,
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
    data = make_input(SIZES["small"])
    expected = serial(data, 1)
    for name, variant in VARIANTS.items():
        variant(data, usable_cores())  # untimed: numba compiles and pools start on a first call
        start = time.perf_counter()
        result = variant(data, usable_cores())
        elapsed = time.perf_counter() - start
        print(f"{name:30} {elapsed:8.3f} s  agrees: {np.allclose(result, expected, rtol=RTOL, atol=0)}")
