"""An example for ``python -m cookbook.advise``: a moving average over Python lists of floats.

    python -m cookbook.advise examples/smooth_lists.py:moving_average

The kernel takes and returns a plain list, as much real code does. numba compiles it, but
converts the list to its own form and back on every call, holding the GIL while it does:
advise measures what that costs against the same call on NumPy arrays.
"""

WINDOW = 16


def moving_average(values):
    """The mean of each ``WINDOW`` consecutive values."""
    out = []
    total = 0.0
    for i in range(len(values)):
        total += values[i]
        if i >= WINDOW:
            total -= values[i - WINDOW]
        if i >= WINDOW - 1:
            out.append(total / WINDOW)
    return out


def make_chunks():
    """16 lists of 40,000 floats, made without randomness so that every run sees the same."""
    return [[((k * 7919 + i * 104_729) % 1000) / 1000.0 for i in range(40_000)] for k in range(16)]
