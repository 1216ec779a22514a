"""An example for ``python -m cookbook.advise``: heat spreading on a grid, in NumPy, step by step.

    python -m cookbook.advise examples/heat.py:spread

Each step builds its new grid from shifted copies (``np.roll``), so every call takes fresh
memory many times over; the chunks are 2 MB grids, which worker processes must be sent.
"""

import numpy as np

STEPS = 20
RATE = 0.1


def spread(grid):
    """``STEPS`` explicit steps of the heat equation on a periodic grid."""
    for _ in range(STEPS):
        laplacian = (
            np.roll(grid, 1, axis=0)
            + np.roll(grid, -1, axis=0)
            + np.roll(grid, 1, axis=1)
            + np.roll(grid, -1, axis=1)
            - 4 * grid
        )
        grid = grid + RATE * laplacian
    return grid


def make_chunks():
    """8 grids of 512 x 512 float64 (2 MB each), each with a hot square of its own."""
    grids = []
    for k in range(8):
        grid = np.zeros((512, 512))
        grid[32 * k : 32 * k + 64, 200:264] = 1.0
        grids.append(grid)
    return grids
