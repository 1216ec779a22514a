"""Shared fixtures. numba sizes its thread pool at import: leave room for 3 workers."""

import os
import signal
import textwrap
from itertools import count
from pathlib import Path

import pytest

os.environ.setdefault("NUMBA_NUM_THREADS", "4")
# Idle OpenMP threads sleep instead of spinning, so that a probe's CPU time counts only work
# (libgomp reads it when numba's prange first loads it).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

_serial_number = count()


@pytest.fixture
def write_recipe(tmp_path):
    """Write a recipe file with a unique module name and return its path."""

    def write(body: str) -> Path:
        path = tmp_path / f"fake_recipe_{os.getpid()}_{next(_serial_number)}.py"
        path.write_text(textwrap.dedent(body))
        return path

    return write


GOOD_RECIPE = """
    import numpy as np
    from joblib import Parallel, delayed

    SIZES = {"small": 8, "large": 16}


    def make_input(size, seed=0):
        return np.random.default_rng(seed).integers(0, 100, size)


    def square(x):
        return x * x


    def serial(data, n_workers):
        return np.array([square(x) for x in data.tolist()])
"""


PROCESSES_RECIPE = (
    GOOD_RECIPE
    + """
    def joblib_processes(data, n_workers):
        tasks = (delayed(square)(x) for x in data.tolist())
        return np.array(Parallel(n_jobs=n_workers, prefer="processes")(tasks))


    VARIANTS = {"serial": serial, "joblib_processes": joblib_processes}
"""
)


def processes_with(marker: str) -> list[int]:
    """PIDs of live processes whose environment holds ``marker`` (runners and loky workers inherit it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def default_sigint() -> None:
    """``preexec_fn`` for a child a test interrupts: SIGINT as a terminal gives it.

    A suite started in the background (``nohup``, ``&`` in a script) passes
    SIGINT on as ignored, and Python then never raises KeyboardInterrupt.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


SWEEP = pytest.mark.sweep


def sweep_all_but(names, kept):
    """``names`` as pytest params, all but ``kept`` marked ``sweep``."""
    return [pytest.param(name, marks=() if name in kept else SWEEP) for name in names]


def one_of_each(cases, kind, *, keep=()):
    """``cases`` as pytest params, all but the first of each ``kind(case)`` (and ``keep``) marked ``sweep``.

    The README's ``pytest`` runs one case of each kind; ``pytest -m sweep`` runs the others.
    """
    seen = set()
    params = []
    for case in cases:
        first = kind(case) not in seen
        seen.add(kind(case))
        marks = () if first or case in keep else (SWEEP,)
        params.append(pytest.param(*case, marks=marks))
    return params
