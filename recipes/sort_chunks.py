"""Sort an array by sorting fixed chunks, then merging the sorted runs in pairs.

Workload
--------
``size`` uniform float64 numbers, cut into ``N_CHUNKS`` rows of equal
length. Each row is sorted on its own; then the sorted runs are merged two
at a time, round after round, until one run is left: a bottom-up merge sort
with ``log2(N_CHUNKS)`` merge rounds. The result is the sorted array; sorting
does no arithmetic, so every variant must return exactly the same array.
The work is comparisons and branches (CPU-bound); a merge round also reads
and writes every element once.

The chunk sorts are independent, and so are the merges of a round, so
each step can run on several workers; but each merge round has half as
many merges as the last, and the final merge moves every element on one
worker. (A merge can itself be split, by cutting the second run where the
first run's median would go, but that is left out here.)

Every variant runs the same two steps, ``sort_run`` and ``merge_runs``,
written in the subset of Python that numba compiles. ``heapq.merge`` would
merge all the runs in one pass in pure Python, but numba cannot compile it
(``Unknown attribute 'merge'`` of module ``heapq``), so the two-way merge
is used everywhere.

What the GIL does to each variant
---------------------------------
serial: each row sorted as a list with ``list.sort`` (C code, on Python
float objects), the merges a pure-Python loop; the reference.

python_threads: the same steps on a thread pool. ``list.sort`` holds the
GIL while it compares Python objects, and the merge is bytecode: no speedup.

numpy: each row sorted with ``np.sort``, each pair merged with
``np.sort(np.concatenate((a, b)), kind="stable")``, on one thread. NumPy has
no merge function; its stable sort for float64 is timsort, which finds the
two sorted runs and merges them, so this is a merge after one extra copy
(the concatenation). A single ``np.sort`` of the whole array would do the
same job; the rounds are kept so that every variant runs the same algorithm.

numpy_threads: the same on a thread pool. NumPy's sorts release the GIL
(the report's "GIL held" column shows how little of a call keeps it), so
the chunks sort side by side. The last merge round is one merge, on one
thread.

numba: both steps compiled with ``numba.njit``, on one thread. numba's
``ndarray.sort`` is numba's own quicksort (``numba/misc/quicksort.py``),
not NumPy's.

numba_threads: both steps compiled with ``nogil=True``, on a thread pool;
each sort and each merge runs without the GIL.

numba_prange: the whole merge sort in one compiled function: a
``numba.prange`` loop sorts the rows, then each round is a ``prange`` loop
over pairs of runs, merging from one buffer into another. No Python runs
between rounds and no merge allocates; the last round is one iteration, on
one thread.

joblib_processes: the pure-Python steps in loky worker processes. Each of
the ``1 + log2(N_CHUNKS)`` rounds sends every element to a worker and back:
arrays over 1 MB go out through memory-mapped files (joblib's default),
results always come back pickled.

python_interpreters: on Python 3.14 and later, the same steps on an
``InterpreterPoolExecutor``, whose workers are threads of this process that
each run an interpreter of its own, with its own GIL. Each task's function
and arguments are pickled into the worker's interpreter, so every round
copies every element there and back, as lists: NumPy arrays cannot be
unpickled there, since NumPy cannot be loaded in a subinterpreter.
``sort_run`` and ``merge_runs`` read no global, so they travel as their code.

Measured
--------
Every variant's figures, with their 95% intervals and a plot: ``docs/recipes/sort_chunks.md``,
rendered from the committed runs in ``results/``.

Free-threaded Python 3.14t
--------------------------
On a free-threaded build (3.14t) python_threads runs without a GIL, and scales fully only if its
threads share no object in the hot loop (docs/free-threaded.md). serial pays the most of any recipe
for the free-threaded build on one thread: its merge writes into a list at every element, and a list
write takes the list's per-object lock there (scripts/free_threading/single_thread_ops.py). It pays
more on the main thread than on another thread of the same process
(scripts/free_threading/main_thread.py), which is why joblib_processes at one worker (its tasks on
the loky worker's main thread) is slow and its efficiency can exceed 1; why the main thread is
slower was not found. Its figures on 3.11, 3.14 and 3.14t: ``docs/recipes/sort_chunks.md``.

Run it: ``python recipes/sort_chunks.py``. ``python -m cookbook.run sort_chunks`` times it at the
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

try:
    from concurrent.futures import InterpreterPoolExecutor
except ImportError:  # Python 3.13 and older: python_interpreters is skipped
    InterpreterPoolExecutor = None

SIZES = {"small": 80_000, "medium": 168_000, "large": 2_400_000}
N_CHUNKS = 8  # a power of two, so the runs pair up in every merge round
MIN_SIZE = N_CHUNKS  # a number per row: make_input rounds the size down to whole rows
N_TASKS = N_CHUNKS  # the chunk sorts; the merge rounds then have 4, 2 and 1


def memory_bytes(size):
    """Peak memory a run at ``size`` needs: serial's last merge, the largest of its steps.

    The input, the last round's two runs and the merged array (3 x size float64), and the two
    runs as lists of Python floats (about 32 bytes a value, with its slot in the list).
    """
    return 3 * 8 * size + 32 * size


def sort_run(run):
    """Sort ``run`` in place and return it: a list in Python, an array in numba."""
    run.sort()
    return run


def merge_runs(a, b, out):
    """Merge the sorted ``a`` and ``b`` into ``out``; return ``out``."""
    i = j = k = 0
    while i < len(a) and j < len(b):
        if b[j] < a[i]:
            out[k] = b[j]
            j += 1
        else:
            out[k] = a[i]
            i += 1
        k += 1
    while i < len(a):
        out[k] = a[i]
        i += 1
        k += 1
    while j < len(b):
        out[k] = b[j]
        j += 1
        k += 1
    return out


if numba:  # without it, the numba variants are skipped (see below VARIANTS)
    sort_run_numba = numba.njit(nogil=True, cache=True)(sort_run)
    merge_runs_numba = numba.njit(nogil=True, cache=True)(merge_runs)

    @numba.njit(parallel=True, cache=True)
    def _sort_chunks_prange(chunks):
        n_chunks, width = chunks.shape
        src = chunks.copy().reshape(-1)
        for c in numba.prange(n_chunks):
            sort_run_numba(src[c * width : (c + 1) * width])
        dst = np.empty_like(src)
        while width < len(src):  # one merge round: runs of ``width`` become runs of ``2 * width``
            for p in numba.prange(len(src) // (2 * width)):
                start, mid, stop = 2 * p * width, (2 * p + 1) * width, (2 * p + 2) * width
                merge_runs_numba(src[start:mid], src[mid:stop], dst[start:stop])
            src, dst = dst, src
            width *= 2
        return src


def sort_run_numpy(run):
    return np.sort(run)


def merge_runs_numpy(a, b):
    return np.sort(np.concatenate((a, b)), kind="stable")  # timsort: merges the two runs


def make_input(size, seed=0):
    """Return ``N_CHUNKS`` equal rows of uniform random numbers (``size`` rounded down)."""
    if size < MIN_SIZE:
        raise ValueError(
            f"size {size} is below this recipe's smallest size, {MIN_SIZE}: "
            "rounded down to N_CHUNKS equal rows, it leaves no numbers"
        )
    return np.random.default_rng(seed).random((N_CHUNKS, size // N_CHUNKS))


def _python_sort(run):
    return np.array(sort_run(run.tolist()))  # lists: NumPy scalars are slow in a loop


def _python_merge(a, b):
    return np.array(merge_runs(a.tolist(), b.tolist(), [0.0] * (len(a) + len(b))))


def _numba_sort(run):
    return sort_run_numba(run.copy())  # sorts in place: leave the input alone


def _numba_merge(a, b):
    return merge_runs_numba(a, b, np.empty(len(a) + len(b)))


def _merge_sort(chunks, sort, merge, map_fn=map):
    """Sort every chunk, then merge pairs of runs until one is left; ``map_fn`` runs each round."""
    runs = list(map_fn(sort, chunks))
    while len(runs) > 1:
        runs = list(map_fn(merge, runs[0::2], runs[1::2]))
    return runs[0]


def serial(chunks, n_workers):
    return _merge_sort(chunks, _python_sort, _python_merge)


def python_threads(chunks, n_workers):
    with ThreadPoolExecutor(n_workers) as pool:
        return _merge_sort(chunks, _python_sort, _python_merge, pool.map)


def numpy_(chunks, n_workers):
    return _merge_sort(chunks, sort_run_numpy, merge_runs_numpy)


def numpy_threads(chunks, n_workers):
    with ThreadPoolExecutor(n_workers) as pool:
        return _merge_sort(chunks, sort_run_numpy, merge_runs_numpy, pool.map)


def numba_(chunks, n_workers):
    return _merge_sort(chunks, _numba_sort, _numba_merge)


def numba_threads(chunks, n_workers):
    with ThreadPoolExecutor(n_workers) as pool:
        return _merge_sort(chunks, _numba_sort, _numba_merge, pool.map)


def numba_prange(chunks, n_workers):
    numba.set_num_threads(n_workers)
    return _sort_chunks_prange(chunks)


def joblib_processes(chunks, n_workers):
    with Parallel(n_jobs=n_workers, prefer="processes") as parallel:  # one pool for every round

        def in_workers(step, *runs):
            return parallel(delayed(step)(*args) for args in zip(*runs, strict=True))

        return _merge_sort(chunks, _python_sort, _python_merge, in_workers)


def python_interpreters(chunks, n_workers):
    with InterpreterPoolExecutor(n_workers) as pool:  # one pool for every round
        runs = list(pool.map(sort_run, chunks.tolist()))
        while len(runs) > 1:
            firsts, seconds = runs[0::2], runs[1::2]
            outs = [[0.0] * (len(a) + len(b)) for a, b in zip(firsts, seconds, strict=True)]
            runs = list(pool.map(merge_runs, firsts, seconds, outs))
    return np.array(runs[0])


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
    print(f"{expected.size} numbers, sorted: {bool(np.all(expected[:-1] <= expected[1:]))}")
    for name, variant in VARIANTS.items():
        variant(data, os.cpu_count() or 1)  # untimed: numba compiles and pools start on a first call
        start = time.perf_counter()
        result = variant(data, os.cpu_count() or 1)
        elapsed = time.perf_counter() - start
        print(f"{name:20} {elapsed:8.3f} s  agrees: {np.array_equal(result, expected)}")
