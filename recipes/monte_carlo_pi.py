"""Estimate pi by counting random points that fall inside a quarter circle.

Workload
--------
``size`` points (x, y) drawn uniformly from the unit square; the result is
how many land inside the quarter circle, ``4 * count / size`` is about pi.
The points come from a Lehmer generator (``state = state * 48271 % (2**31-1)``)
run inside the kernel, so no point is stored: the work is CPU-bound integer
arithmetic. Coordinates stay integers (``x*x + y*y < m*m``, below 2**63), so
the count is exact and every variant must return the same integer.

The points are cut into ``N_CHUNKS`` chunks fixed by the workload, each
seeded from ``np.random.SeedSequence(seed).spawn(N_CHUNKS)``: the answer is
the same for 1, 2 or 3 workers. The Lehmer generator is chosen over NumPy's
``Generator`` because the same stream must come out of a pure-Python loop,
a numba loop and NumPy: state ``k`` is ``seed * a**k mod m``, so NumPy can
jump ahead and build a chunk's whole stream with array operations.

What the GIL does to each variant
---------------------------------
serial: the chunks one after the other in a pure-Python loop; the reference.

python_threads: the chunks on a thread pool. The loop is bytecode, so the
GIL lets one thread run at a time: no speedup.

python_threads_local: the same, with ``MULTIPLIER`` and ``MODULUS`` passed in
as arguments, so the loop reads locals. With the GIL it changes nothing; on a free-threaded build
(3.14t) it takes the two shared globals, whose reference counts both threads
would write at every point, out of the loop.

numpy: each chunk's stream built and tested with array operations, on one
thread.

numpy_threads: the same on a thread pool. NumPy's ufuncs release the GIL on
large arrays, so the chunks run at once (at the large size a chunk holds
156,250 points).

numba: the kernel compiled with ``numba.njit``, one thread.

numba_threads: the kernel compiled with ``nogil=True``, chunks on a thread
pool; the whole chunk runs without the GIL.

numba_prange: a ``numba.prange`` loop over the chunks on numba's own threads.

joblib_processes: the pure-Python kernel in loky worker processes, one GIL
each; only seeds and counts cross between processes.

python_interpreters: on Python 3.14 and later, the chunks on an
``InterpreterPoolExecutor``, whose workers are threads of this process that
each run an interpreter of its own, with its own GIL. Each task's function
and arguments are pickled into the worker's interpreter.
``count_inside_local`` reads no global, so it travels as its code;
``count_inside`` reads two, so it would be pickled by name, and each
interpreter would import this module, which fails: NumPy and joblib cannot
be loaded in a subinterpreter.

Measured
--------
Every variant's figures, with their 95% intervals and a plot: ``docs/recipes/monte_carlo_pi.md``,
rendered from the committed runs in ``results/``.

Free-threaded Python 3.14t
--------------------------
On a free-threaded build (3.14t) python_threads runs without a GIL, and scales fully only if its
threads share no object in the hot loop (docs/free-threaded.md). The loop reads the globals
MULTIPLIER and MODULUS (ints above 256, so not immortal) three times a point, and a free-threaded
build writes their reference counts from both threads; python_threads_local, with both passed in
as arguments, shows what that costs. Its figures on 3.11, 3.14 and 3.14t:
``docs/recipes/monte_carlo_pi.md``.

Run it: ``python recipes/monte_carlo_pi.py``. ``python -m cookbook.run monte_carlo_pi`` times it at the
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

SIZES = {"small": 200_000, "medium": 280_000, "large": 10_000_000}
MIN_SIZE = 1  # one point; below N_CHUNKS points some chunks have none, which every variant handles
N_CHUNKS = 64  # fixed by the workload, so the count never depends on workers
N_TASKS = N_CHUNKS  # one task per chunk
MULTIPLIER = 48271  # the Lehmer (MINSTD) generator
MODULUS = 2**31 - 1  # prime; products stay below 2**63 in int64
BLOCK = 4096
# MULTIPLIER**k mod MODULUS for k = 1..BLOCK: the numpy variants' jump-ahead table
POWERS = np.array([pow(MULTIPLIER, k, MODULUS) for k in range(1, BLOCK + 1)])


def memory_bytes(size):
    """Peak bytes: the seeds and counts (all serial needs) plus numpy's int64 temporaries for one chunk: its
    states, then a second copy or x*x, y*y and their sum; each extra numpy_threads thread adds a chunk's.
    """
    points = -(-size // N_CHUNKS)  # in the largest chunk
    states = BLOCK * -(-2 * points // BLOCK)
    return 2 * 8 * N_CHUNKS + 8 * (states + max(states, 3 * points))


def count_inside(seed, n_points):
    """Count the points of one Lehmer stream inside the quarter circle."""
    state = seed
    inside = 0
    for _ in range(n_points):
        state = state * MULTIPLIER % MODULUS
        x = state
        state = state * MULTIPLIER % MODULUS
        if x * x + state * state < MODULUS * MODULUS:
            inside += 1
    return inside


def count_inside_local(seed, n_points, multiplier, modulus):
    """``count_inside`` with the generator's constants as arguments: the loop reads no global."""
    limit = modulus * modulus
    state = seed
    inside = 0
    for _ in range(n_points):
        state = state * multiplier % modulus
        x = state
        state = state * multiplier % modulus
        if x * x + state * state < limit:
            inside += 1
    return inside


if numba:  # without it, the numba variants are skipped (see below VARIANTS)
    count_inside_numba = numba.njit(nogil=True, cache=True)(count_inside)

    @numba.njit(parallel=True, cache=True)
    def _count_inside_prange(chunks):
        counts = np.zeros(len(chunks), dtype=np.int64)
        for chunk in numba.prange(len(chunks)):
            counts[chunk] = count_inside_numba(chunks[chunk, 0], chunks[chunk, 1])
        return counts.sum()


def count_inside_numpy(seed, n_points):
    """Count like ``count_inside``, building the stream with array operations."""
    n_states = 2 * n_points
    n_blocks = -(-n_states // BLOCK)
    # state b*BLOCK + k == state b*BLOCK times MULTIPLIER**k: one table lookup per block
    block_starts = [seed * pow(MULTIPLIER, b * BLOCK, MODULUS) % MODULUS for b in range(n_blocks)]
    states = (np.array(block_starts)[:, None] * POWERS % MODULUS).ravel()[:n_states]
    x, y = states[0::2], states[1::2]
    return int(np.count_nonzero(x * x + y * y < MODULUS * MODULUS))


def make_input(size, seed=0):
    """Return one row per chunk: (Lehmer seed, number of points)."""
    if size < MIN_SIZE:
        raise ValueError(f"size {size} is below this recipe's smallest size, {MIN_SIZE}: no points")
    children = np.random.SeedSequence(seed).spawn(N_CHUNKS)
    seeds = [int(child.generate_state(1)[0]) % (MODULUS - 1) + 1 for child in children]
    points = [size // N_CHUNKS + (i < size % N_CHUNKS) for i in range(N_CHUNKS)]
    return np.array([seeds, points], dtype=np.int64).T.copy()


def serial(chunks, n_workers):
    return sum(count_inside(seed, n) for seed, n in chunks.tolist())


def python_threads(chunks, n_workers):
    with ThreadPoolExecutor(n_workers) as pool:
        return sum(pool.map(count_inside, *chunks.T.tolist()))


def python_threads_local(chunks, n_workers):
    with ThreadPoolExecutor(n_workers) as pool:
        return sum(pool.map(count_inside_local, *chunks.T.tolist(), repeat(MULTIPLIER), repeat(MODULUS)))


def numpy_(chunks, n_workers):
    return sum(count_inside_numpy(seed, n) for seed, n in chunks.tolist())


def numpy_threads(chunks, n_workers):
    with ThreadPoolExecutor(n_workers) as pool:
        return sum(pool.map(count_inside_numpy, *chunks.T.tolist()))


def numba_(chunks, n_workers):
    return sum(count_inside_numba(seed, n) for seed, n in chunks.tolist())


def numba_threads(chunks, n_workers):
    with ThreadPoolExecutor(n_workers) as pool:
        return sum(pool.map(count_inside_numba, *chunks.T.tolist()))


def numba_prange(chunks, n_workers):
    numba.set_num_threads(n_workers)
    return int(_count_inside_prange(chunks))


def joblib_processes(chunks, n_workers):
    tasks = (delayed(count_inside)(seed, n) for seed, n in chunks.tolist())
    return sum(Parallel(n_jobs=n_workers, prefer="processes")(tasks))


def python_interpreters(chunks, n_workers):
    seeds, points = chunks.T.tolist()
    with InterpreterPoolExecutor(n_workers) as pool:
        return sum(pool.map(count_inside_local, seeds, points, repeat(MULTIPLIER), repeat(MODULUS)))


VARIANTS = {
    "serial": serial,
    "python_threads": python_threads,
    "python_threads_local": python_threads_local,
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
    print(f"pi is about {4 * expected / SIZES['small']:.5f}")
    for name, variant in VARIANTS.items():
        variant(data, os.cpu_count() or 1)  # untimed: numba compiles and pools start on a first call
        start = time.perf_counter()
        result = variant(data, os.cpu_count() or 1)
        elapsed = time.perf_counter() - start
        print(f"{name:20} {elapsed:8.3f} s  agrees: {result == expected}")
