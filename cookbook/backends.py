"""Where the process variants' joblib calls run: loky worker processes, or a dask.distributed cluster.

Recipes call ``Parallel(n_jobs=n_workers, prefer="processes")`` and never
name a backend, so the harness chooses one with ``joblib.parallel_config``.
A process variant run on dask is shown as ``<variant>@dask`` (``results.step_name``). Each such step
gets a cluster of its own worker count, like loky's pool, started inside
its first call: a ``LocalCluster`` on 127.0.0.1 with one single-threaded
worker process per worker, or, with ``--scheduler``, that many workers of an
existing cluster (which is left running). At 1 worker there is no cluster:
joblib runs ``n_jobs=1`` in the calling process whatever the backend, so
the 1-worker rows of loky and dask run the same code.

It also measures what one task, one call and a new pool cost besides the work, on each backend
(``process_overheads``), on a thread pool (``thread_overheads``) and on subinterpreters
(``interpreter_overheads``).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import socket
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "BACKENDS",
    "Backend",
    "BackendError",
    "add_arguments",
    "check",
    "check_scheduler",
    "interpreter_overheads",
    "joblib_backend",
    "local_cluster",
    "parse",
    "process_overheads",
    "require",
    "seconds_per_task",
    "thread_overheads",
]

BACKENDS = ("loky", "dask")
CONNECT_TIMEOUT_S = 5.0


class BackendError(Exception):
    """A backend cannot be used: not installed, or its cluster cannot be reached or is too small."""


def require(backend: str) -> None:
    """Fail with the extra to install when ``backend`` needs a package that is missing."""
    if backend == "dask":
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise BackendError(
                '--backend dask needs dask.distributed: pip install -e ".[dask]" (or pip install distributed)'
            ) from None


def parse(text: str) -> list[str]:
    """``--backend``'s value: backend names separated by commas (an argparse type)."""
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [name for name in names if name not in BACKENDS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown backend {', '.join(unknown) or repr(text)} (valid: {', '.join(BACKENDS)})"
        )
    return list(dict.fromkeys(names))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--backend`` and ``--scheduler``, as ``cookbook.run`` and ``cookbook.advise`` take them."""
    parser.add_argument(
        "--backend",
        type=parse,
        default=["loky"],
        metavar="NAME[,NAME]",
        help="where the process variants' joblib calls run: loky (default: worker processes on this "
        "machine), dask (a dask.distributed cluster; needs the dask extra), or loky,dask to compare them; "
        "a process variant on dask shows as <variant>@dask",
    )
    parser.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        help="with --backend dask: use the running cluster whose scheduler listens here (left running) "
        "instead of starting a LocalCluster on 127.0.0.1 for each step",
    )


def check(names: Sequence[str], scheduler: str | None, *, connect: bool = True) -> None:
    """Fail before any work, with what to do, when ``--backend`` and ``--scheduler`` cannot be used."""
    if scheduler and "dask" not in names:
        raise BackendError("--scheduler needs --backend dask (or loky,dask)")
    for backend in names:
        require(backend)
    if scheduler and connect:
        check_scheduler(scheduler)


def check_scheduler(address: str) -> None:
    """Fail within seconds, with the reason, when nothing listens at ``tcp://HOST:PORT``."""
    parts = urlsplit(address)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme != "tcp" or not parts.hostname or port is None:
        raise BackendError(f"--scheduler {address}: expected tcp://HOST:PORT, e.g. tcp://127.0.0.1:8786")
    try:
        with socket.create_connection((parts.hostname, port), timeout=CONNECT_TIMEOUT_S):
            pass
    except OSError as error:
        reason = error.strerror or str(error) or type(error).__name__
        raise BackendError(f"--scheduler {address}: cannot reach the dask scheduler ({reason})") from None


@dataclass(frozen=True)
class Backend:
    """An open backend: where a step's joblib calls go, while ``activate()`` is entered."""

    description: str | None  # the cluster, for the report; None for loky and for no backend
    activate: Callable[[], contextlib.AbstractContextManager[Any]]


@contextlib.contextmanager
def joblib_backend(backend: str | None, workers: int, scheduler: str | None) -> Iterator[Backend]:
    """Open ``backend`` with ``workers`` worker processes for as long as the context lasts.

    The cluster lives as long as the context; the joblib calls of a step go to
    it inside ``activate()``, so that steps sampled in turns each keep their own.
    """
    if backend != "dask" or workers == 1:  # joblib runs n_jobs=1 in the calling process, on any backend
        yield Backend(None, contextlib.nullcontext)
        return
    import dask
    from distributed import Client
    from joblib import parallel_config

    with contextlib.ExitStack() as stack:
        # No profiler: its thread samples every thread's frames with sys._current_frames(), which costs
        # CPU beside the work and, on 3.14 with the GIL, aborts a process running subinterpreters.
        stack.enter_context(dask.config.set({"distributed.worker.profile.enabled": False}))
        if scheduler is None:
            cluster = local_cluster(workers)
            stack.callback(cluster.close)
            client = stack.enter_context(Client(cluster, set_as_default=False))  # type: ignore[no-untyped-call]
        else:
            client = stack.enter_context(
                Client(scheduler, timeout=CONNECT_TIMEOUT_S, set_as_default=False)  # type: ignore[no-untyped-call]
            )
        info = client.scheduler_info()
        chosen = sorted(info["workers"])[:workers]
        if len(chosen) < workers:
            raise BackendError(f"the cluster at {info['address']} has {len(chosen)} workers, not {workers}")
        threads = "/".join(str(n) for n in sorted({info["workers"][w]["nthreads"] for w in chosen}))
        where = "LocalCluster" if scheduler is None else "cluster"
        description = (
            f"{where} {info['address']}: {workers} of its {len(info['workers'])} worker processes, "
            f"{threads} thread{'' if threads == '1' else 's'} each"
        )
        # workers=: the tasks go to those workers only, so a step's worker count holds on any cluster
        yield Backend(description, partial(parallel_config, backend="dask", client=client, workers=chosen))


def local_cluster(workers: int) -> Any:
    """A ``LocalCluster`` on 127.0.0.1 of ``workers`` single-threaded worker processes, started.

    Starting it leaves this process's environment as it found it. distributed
    hands its ``pre-spawn-environ`` (``OMP_NUM_THREADS=1``, ``MKL_NUM_THREADS=1``,
    ``OPENBLAS_NUM_THREADS=1``, ...) to the worker processes by writing it into
    ``os.environ`` here, and leaves it there: a pool started later in this
    process or its children would read it and run on one thread (scipy.fft's,
    since SciPy 1.18, sized at its first call, ignores ``workers=`` beyond it).
    """
    from distributed import LocalCluster

    before = dict(os.environ)
    try:
        return LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
    finally:
        for name in os.environ.keys() - before.keys():
            del os.environ[name]
        os.environ.update(before)


def _noop(value: int) -> int:
    return value


def seconds_per_task(run_tasks: Callable[[int], object], tasks: int) -> float:
    """The median seconds per task of 3 calls of ``run_tasks(tasks)``, after one that warms the pool."""
    calls = []
    for _ in range(4):  # the first starts the pool's threads or processes: left out
        start = time.perf_counter()
        run_tasks(tasks)
        calls.append((time.perf_counter() - start) / tasks)
    return statistics.median(calls[1:])


def _noop_tasks(workers: int) -> Callable[[int], object]:
    from joblib import Parallel, delayed

    return lambda n: Parallel(n_jobs=workers, batch_size=1)(delayed(_noop)(i) for i in range(n))


def process_overheads(backend: str, workers: int, scheduler: str | None) -> tuple[float, float, float]:
    """Seconds per no-op task through ``joblib.Parallel`` on a warm ``backend``, one task per batch;
    per call of one no-op task per worker; and the start-up: the backend opened, then its first such
    call (loky starts its worker processes then, unless this process started them before).

    The second is what any ``Parallel`` call pays however few its tasks (dispatch, collection).
    """
    start = time.perf_counter()
    with joblib_backend(backend, workers, scheduler) as opened, opened.activate():
        run_tasks = _noop_tasks(workers)
        run_tasks(workers)
        startup = time.perf_counter() - start
        return seconds_per_task(run_tasks, 200), seconds_per_task(run_tasks, workers) * workers, startup


def _pool_overheads(make_pool: Callable[[int], Executor], workers: int, tasks: int) -> tuple[float, float]:
    """Seconds per no-op task on a warm pool of ``make_pool``, and per call that starts its own pool."""

    def new_pool(n: int) -> None:
        with make_pool(workers) as pool:
            list(pool.map(_noop, range(n)))

    with make_pool(workers) as pool:
        per_task = seconds_per_task(lambda n: list(pool.map(_noop, range(n))), tasks)
    return per_task, seconds_per_task(new_pool, workers) * workers


def thread_overheads(workers: int) -> tuple[float, float]:
    """Seconds per no-op task on a warm ``ThreadPoolExecutor``, and per call that starts its own pool."""
    return _pool_overheads(ThreadPoolExecutor, workers, 2000)


def interpreter_overheads(workers: int) -> tuple[float, float]:
    """Seconds per no-op task on a warm ``InterpreterPoolExecutor`` (Python 3.14), and per call that
    starts its own pool: each worker's interpreter starts then, so the second is the start-up.

    ``_noop`` reads no global, so it travels to the interpreters as its code, never imported by name.
    """
    from concurrent.futures import InterpreterPoolExecutor  # type: ignore[attr-defined,unused-ignore]

    return _pool_overheads(InterpreterPoolExecutor, workers, 200)
