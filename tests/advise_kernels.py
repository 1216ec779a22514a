"""Kernels of each kind for the tests of ``python -m cookbook.advise`` (not a recipe)."""

import os
import random
import signal
import threading
import time
from fractions import Fraction

import numpy as np


def python_loop(n):
    """Pure Python on ints: holds the GIL; numba compiles it too."""
    total = 0
    for k in range(n):
        total = (total * 31 + k) % 1_000_003
    return total


def make_chunks():
    return [20_000] * 8


def numpy_sort(array):
    """One large NumPy call per chunk: releases the GIL (an integer result: numba's sums differ)."""
    return int(np.searchsorted(np.sort(array), 0.5))


def make_arrays():
    rng = np.random.default_rng(0)
    return [rng.random(200_000) for _ in range(8)]


def fraction_sum(n):
    """Exact fractions: numba cannot compile it (no Fraction in nopython mode)."""
    return sum(Fraction(1, k) for k in range(1, n))


def make_small():
    return [800] * 8


def make_heavy():
    """Chunks of tens of milliseconds each: enough work per task for worker processes to pay."""
    return [4000] * 8


def count_above(array):
    """One pass over a large array per chunk: memory-bound (an integer result, exact on every rung)."""
    return int(np.count_nonzero(array > 0.5))


def make_large_arrays():
    rng = np.random.default_rng(0)
    return [rng.random(2_000_000) for _ in range(8)]


def raises(n):
    raise ValueError(f"no good: {n}")


def noisy(n):
    """A different answer on every call: not deterministic."""
    return n + random.random()


def make_locks():
    """Chunks that pickle cannot send to a worker process."""
    return [(threading.Lock(), 1000) for _ in range(4)]


def first_item(chunk):
    return python_loop(chunk[1])


def make_none():
    return []


def add_up(results):
    return sum(results)


not_a_function = 3


# --- kernels that misbehave on one rung or one chunk (cookbook.kernel, cookbook.isolate) ---------


def _in_worker_process():
    """True in a loky worker: advise's runner leads its own process group, its workers do not."""
    return os.getpgid(0) != os.getpid()


def hangs_in_processes(n):
    if _in_worker_process():
        time.sleep(3600)
    return python_loop(n)


def dies_on_threads(n):
    """Kills its process from a pool thread: numba cannot compile os.kill, so only python_threads dies."""
    if threading.current_thread() is not threading.main_thread():
        os.kill(os.getpid(), signal.SIGSEGV)
    return python_loop(n)


def no_memory_in_processes(n):
    if _in_worker_process():
        raise MemoryError("no room in a worker")
    return python_loop(n)


def hangs_on_three(n):
    if n == 3:
        time.sleep(3600)
    return n


def make_four():
    return [1, 2, 3, 4]


def raises_on_1002(n):
    if n == 1002:
        raise ValueError("1002 is refused")
    return python_loop(n)


def make_thousands():
    return [1000, 1001, 1002, 1003]


def make_iterators():
    """Chunks that are iterators: a second pass over them would find them empty."""
    return [iter([float(k + i) for i in range(2000)]) for k in range(4)]


def returns_none(n):
    python_loop(n)


def prints(n):
    print(f"chunk {n}")
    print("done")
    return python_loop(n)


def keyword_only(n, *, scale=3):
    return python_loop(n) * scale


def helper(n):
    return n + 1


def calls_a_helper(n):
    total = 0
    for k in range(n):
        total += helper(k)
    return total


def list_sum(values):
    """A list argument: numba converts it, holding the GIL, on every call."""
    total = 0.0
    for value in values:
        total += value
    return total


def make_lists():
    return [[float(k) for k in range(20_000)] for _ in range(4)]


def one_over(n):
    """A class numba does not know."""
    return Fraction(1, n)
