"""Record the machine and interpreter that explain a run's timings."""

from __future__ import annotations

import contextlib
import os
import platform
import re
import sys
import sysconfig
import warnings
from collections.abc import Iterator
from importlib import metadata
from typing import Any

from cookbook import load

__all__ = [
    "available_memory",
    "collect",
    "free_threaded_build",
    "gil_enabled",
    "gil_reenabled_by",
    "memory_bandwidth",
    "numba_threading_layer",
    "thread_pools",
    "usable_cores",
    "watching_gil",
]

LIBRARIES = ("numpy", "scipy", "numba", "joblib", "threadpoolctl")


def free_threaded_build() -> bool:
    """Whether this CPython was built without the GIL (``--disable-gil``, e.g. 3.14t)."""
    return bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def gil_enabled() -> bool:
    """Whether the GIL is on now; a free-threaded build can turn it back on at run time."""
    check = getattr(sys, "_is_gil_enabled", None)
    return True if check is None else bool(check())


# CPython's RuntimeWarning when an import turns the GIL back on, in 3.13t and 3.14t.
_GIL_WARNING = re.compile(r"\(GIL\) has been enabled to load module '([^']+)'")
_reenabled_by: list[str] = []  # the first module whose import turned the GIL back on in this process


@contextlib.contextmanager
def watching_gil() -> Iterator[None]:
    """On a free-threaded build with the GIL off, note the module whose import in the block turns it on.

    CPython says which, once, in a RuntimeWarning; other warnings are passed on as they came.
    """
    if not free_threaded_build() or gil_enabled():
        yield
        return
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        yield
    named = []
    for w in seen:
        if found := _GIL_WARNING.search(str(w.message)):
            named.append(found.group(1))
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if gil_enabled() and not _reenabled_by:
        _reenabled_by.append(named[0] if named else "an extension module (no warning said which)")


def gil_reenabled_by() -> str | None:
    """The module whose import turned the GIL back on in this process, if one did (``watching_gil``)."""
    return _reenabled_by[0] if _reenabled_by else None


def usable_cores() -> int:
    """Cores this process may use: CPU affinity and container quotas respected (loky)."""
    from joblib import cpu_count

    return int(cpu_count())


def available_memory() -> int | None:
    """Bytes this process can still allocate without swapping, or None where nobody can tell.

    Linux's ``MemAvailable`` (free memory plus caches it can drop), capped by
    a container's cgroup limit when one is set.
    """
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            fields = dict(line.split(":", 1) for line in meminfo)
        available = int(fields["MemAvailable"].split()[0]) * 1024
    except (OSError, KeyError, ValueError):
        return None
    for limit_file, usage_file in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),  # cgroup v2
        ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"),
    ):
        try:
            with open(limit_file, encoding="ascii") as limit, open(usage_file, encoding="ascii") as usage:
                available = min(available, int(limit.read()) - int(usage.read()))
        except (OSError, ValueError):  # no such cgroup file, or "max": no limit
            continue
    return available


def memory_bandwidth(nbytes: int = 2**27, repeats: int = 5) -> float:
    """The machine's copy bandwidth in bytes per second, reads plus writes, best of ``repeats``.

    Both arrays are written before timing, so page faults of new memory are
    not counted (they halve the rate on first touch).
    """
    import time

    import numpy as np

    source = np.full(nbytes // 8, 1.0)
    target = np.full(nbytes // 8, 0.0)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        np.copyto(target, source)
        best = min(best, time.perf_counter() - start)
    return 2 * nbytes / best


def numba_threading_layer() -> str:
    """The threading layer numba chose, or why there is none yet."""
    if "numba" not in sys.modules:
        return "not loaded"
    import numba

    try:
        return str(numba.threading_layer())  # type: ignore[attr-defined]
    except ValueError:  # raised until a parallel=True function has run
        return f"not started (configured: {numba.config.THREADING_LAYER})"  # type: ignore[attr-defined]


def _numba_num_threads() -> int | None:
    """The size of numba's thread pool (NUMBA_NUM_THREADS), once numba is loaded."""
    if "numba" not in sys.modules:
        return None
    import numba

    return int(numba.config.NUMBA_NUM_THREADS)  # type: ignore[attr-defined]


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _blas_pools() -> list[dict[str, Any]]:
    from threadpoolctl import threadpool_info

    keys = ("user_api", "internal_api", "num_threads", "version", "prefix")
    return [{k: pool.get(k) for k in keys} for pool in threadpool_info()]


def collect() -> dict[str, Any]:
    """Return the environment record: interpreter, GIL, cores, libraries, thread pools."""
    from joblib.externals.loky import cpu_count

    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "free_threaded_build": free_threaded_build(),
        "gil_enabled": gil_enabled(),
        "switch_interval_s": sys.getswitchinterval(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu": _cpu_model(),
        "cores": {
            "logical": os.cpu_count(),
            "physical": cpu_count(only_physical_cores=True),
            "usable": usable_cores(),
        },
        "libraries": {name: _version(name) for name in LIBRARIES},
        "cpu_load_known": load.snapshot() is not None,  # what else took the CPUs, per sample
        **thread_pools(),
    }


def thread_pools() -> dict[str, Any]:
    """The native thread pools loaded so far, and numba's threading layer: they change as recipes run."""
    return {
        "gil_enabled_in_runner": gil_enabled(),  # an extension without free-threading support re-enables it
        "gil_reenabled_by": gil_reenabled_by(),
        "blas_pools": _blas_pools(),
        "numba_threading_layer": numba_threading_layer(),
        "numba_num_threads": _numba_num_threads(),
    }
