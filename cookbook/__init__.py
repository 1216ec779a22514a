"""The numerical parallelism cookbook: recipes run through serial, threads, numba and processes."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

__version__ = "0.1.0"


def load_ipython_extension(ipython: InteractiveShell) -> None:
    """Register ``%advise`` in IPython: ``%load_ext cookbook`` calls this (IPython is imported only now)."""
    from cookbook.magic import load_ipython_extension as load

    load(ipython)
