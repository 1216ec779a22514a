"""Kernels of each kind for the tests of ``python -m cookbook.advise`` (not a recipe)."""

import random
import threading
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
