"""The numerical parallelism cookbook: recipes run through serial, threads, numba and processes."""

__version__ = "0.1.0"
