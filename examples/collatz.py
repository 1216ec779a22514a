"""An example for ``python -m cookbook.advise``: the longest Collatz chain in each range of starts.

    python -m cookbook.advise examples/collatz.py:longest_chain

The kernel is plain Python on integers, one call per chunk; ``make_chunks`` gives the chunks.
"""


def longest_chain(bounds):
    """The start in ``range(*bounds)`` whose Collatz chain to 1 is longest, and its length."""
    start, stop = bounds
    best_start, best_steps = start, 0
    for n in range(start, stop):
        k, steps = n, 0
        while k != 1:
            k = k // 2 if k % 2 == 0 else 3 * k + 1
            steps += 1
        if steps > best_steps:
            best_start, best_steps = n, steps
    return best_start, best_steps


def make_chunks():
    """16 ranges of 6,000 starts each, from 1."""
    width = 6_000
    return [(lo, lo + width) for lo in range(1, 16 * width + 1, width)]
