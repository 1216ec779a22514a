"""The mandelbrot recipe on the py-free-threading guide's workload: 800 x 800 pixels, 2000 steps.

The guide (Quansight-Labs/free-threaded-compatibility, docs/examples/mandelbrot-threads.ipynb)
times a pure-Python escape-time loop over a square window 0.004 wide around -0.4601222 + 0.570286i,
at most 2000 steps per pixel, serially, on free-threaded threads and on joblib's processes. This
file keeps the recipe's variants and kernel and gives them that window and limit instead of the
recipe's whole-set grid; the recipe's bands (32) stay, where the guide submits 4 rows per task.

Run it: ``python -m cookbook.run scripts/free_threading/mandelbrot_guide.py --size 800``.
"""

import numpy as np

from recipes.mandelbrot import N_BANDS, N_TASKS, NOT_APPLICABLE, VARIANTS  # noqa: F401  (the recipe's)

SIZES = {"small": 80, "large": 800}  # pixels on a side; 800 is the guide's
MAX_ITER = 2000
CENTER = (-0.4601222, 0.570286)
HALF_WIDTH = 0.002


def make_input(size, seed=0):
    """The window's coordinates, size x size, the row where each band starts, and the step limit."""
    xs = np.linspace(CENTER[0] - HALF_WIDTH, CENTER[0] + HALF_WIDTH, size)
    ys = np.linspace(CENTER[1] - HALF_WIDTH, CENTER[1] + HALF_WIDTH, size)
    bands = np.linspace(0, size, N_BANDS + 1).astype(np.int64)
    return xs, ys, bands, MAX_ITER


MIN_SIZE = N_BANDS  # a row per band at least
