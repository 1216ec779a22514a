"""Why do quad_callback's and heat_stencil's python_threads scale badly on 3.14t? 1 vs 2 threads.

Run with a free-threaded Python, and with a GIL build for contrast:
``.venv-3.14t/bin/python scripts/free_threading/quad_and_heat.py``.
"""

import math
import statistics
import sys
import threading
import time
import types
from concurrent.futures import ThreadPoolExecutor
from itertools import repeat
from pathlib import Path

import numpy as np
from scipy.integrate import quad

sys.path.append(str(Path(__file__).resolve().parents[2]))  # the repository, for the recipes' kernels
from recipes.heat_stencil import ALPHA, heat_rows
from recipes.quad_callback import integrand

N_CHUNKS = 16


# ---------- quad_callback: the recipe's integrand, and variations of it ----------
def integrand_local(t, p, exp=math.exp, cos=math.cos, pi=math.pi):
    return exp(p * (cos(t) - 1.0)) / pi


def copy_of(f):
    return types.FunctionType(f.__code__, f.__globals__, f.__name__, f.__defaults__, f.__closure__)


def quad_chunk(f, params):
    return [quad(f, 0.0, math.pi, args=(p,), epsabs=0.0, epsrel=1e-10)[0] for p in params]


NODES = [math.pi * (k + 0.5) / 21 for k in range(21)]


def loop_chunk(f, params, nodes=NODES):
    """Call ``f(t, p)`` for 5 x 21 nodes per p, in plain Python (no quad)."""
    out = []
    for p in params:
        s = 0.0
        for _ in range(5):
            for t in nodes:
                s += f(t, p)
        out.append(s)
    return out


PARAMS = np.random.default_rng(0).uniform(0, 100, 16_000)
CHUNKS = [c.tolist() for c in np.array_split(PARAMS, N_CHUNKS)]


def run_chunks(kernel, f, n, per_chunk_copy=False):
    fs = [copy_of(f) for _ in CHUNKS] if per_chunk_copy else [f] * len(CHUNKS)
    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(kernel, fs, CHUNKS))


# ---------- heat_stencil: the recipe's heat_rows, and heat_rows with ALPHA read once ----------
SIZE, STEPS, N_BANDS = 200, 100, 8


def heat_rows_local(old, new, start, stop):
    alpha = ALPHA  # one read of the shared global per call, not one per point
    n_cols = len(old[0])
    for i in range(start, stop):
        up = old[i - 1]
        row = old[i]
        down = old[i + 1]
        out = new[i]
        for j in range(1, n_cols - 1):
            out[j] = row[j] + alpha * (up[j] + down[j] + row[j - 1] + row[j + 1] - 4.0 * row[j])


GRID = np.random.default_rng(0).random((SIZE, SIZE))
BANDS = np.linspace(1, SIZE - 1, N_BANDS + 1).astype(np.int64).tolist()


def heat_pool(kernel, n):
    """As the recipe: every step's bands on a pool, so a band moves between threads from step to step."""
    old, new = GRID.tolist(), GRID.tolist()
    with ThreadPoolExecutor(n) as pool:
        for _ in range(STEPS):
            list(pool.map(kernel, repeat(old), repeat(new), BANDS[:-1], BANDS[1:]))
            old, new = new, old
    return old


def heat_pinned(kernel, n):
    """Each thread keeps the same bands for every step: a float is freed by the thread that made it."""
    grids = [GRID.tolist(), GRID.tolist()]
    barrier = threading.Barrier(n)
    groups = np.array_split(np.arange(N_BANDS), n)

    def work(group):
        for step in range(STEPS):
            old, new = grids[step % 2], grids[(step + 1) % 2]
            for b in group:
                kernel(old, new, BANDS[b], BANDS[b + 1])
            barrier.wait()

    threads = [threading.Thread(target=work, args=(g,)) for g in groups]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return grids[STEPS % 2]


PROBES = {
    "quad shared integrand": lambda n: run_chunks(quad_chunk, integrand, n),
    "quad integrand, globals as locals": lambda n: run_chunks(quad_chunk, integrand_local, n),
    "quad integrand copied per chunk": lambda n: run_chunks(quad_chunk, integrand, n, True),
    "loop shared integrand (no quad)": lambda n: run_chunks(loop_chunk, integrand, n),
    "loop integrand, globals as locals": lambda n: run_chunks(loop_chunk, integrand_local, n),
    "heat as the recipe": lambda n: heat_pool(heat_rows, n),
    "heat, ALPHA as a local": lambda n: heat_pool(heat_rows_local, n),
    "heat, bands pinned to threads": lambda n: heat_pinned(heat_rows, n),
    "heat, pinned and ALPHA local": lambda n: heat_pinned(heat_rows_local, n),
}


def report(name, t1, t2):
    """Print one probe's medians at 1 and 2 threads and its efficiency."""
    line = f"{name:48} 1 thread {t1[0] * 1e3:7.1f} ms  2 threads {t2[0] * 1e3:7.1f} ms"
    print(f"{line}  efficiency {t1[0] / (2 * t2[0]):.2f}", flush=True)


def median_time(fn, n, repeats=5):
    fn(n)  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(n)
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times), max(times)


if __name__ == "__main__":
    gil = sys._is_gil_enabled() if hasattr(sys, "_is_gil_enabled") else True
    print(f"# {sys.version.split()[0]} GIL enabled: {gil}")
    assert heat_pinned(heat_rows, 2) == heat_pool(heat_rows_local, 1)
    for name, fn in PROBES.items():
        report(name, median_time(fn, 1), median_time(fn, 2))
