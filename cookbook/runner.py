"""The process that runs one recipe's steps for ``cookbook.run``: ``python -m cookbook.runner FD``.

The parent (``cookbook.isolate``) writes a pickled :class:`Job` to this
process's stdin. This process runs the steps and reports on the file
descriptor ``FD``, one pickled, length-prefixed message at a time:

- ``("step", variant, workers, phase)`` as a step starts its first call
  and warm-up, and before each of its samples (phase ``round N``);
- ``("measured", measurement, bytes_per_call)`` when a step is done, the
  measurement in the dict form that ``--json`` writes;
- ``("thread_pools", pools)`` once every step has ended.

An :class:`OverheadJob` instead measures joblib's cost per task on each
backend and sends ``("overhead", seconds_per_task_by_backend)``.

A step that hangs cannot be stopped from inside (a pure-Python thread cannot
be killed), so the parent kills this process's whole process group instead:
its threads, and the loky workers it started, go with it.
"""

from __future__ import annotations

import os
import pickle
import signal
import struct
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, Any

from cookbook import environment
from cookbook.backends import task_overhead
from cookbook.measure import run_recipe
from cookbook.options import RunOptions
from cookbook.recipe import load
from cookbook.timing import shutdown_process_pool

__all__ = ["HEADER", "Job", "OverheadJob", "main", "send"]

HEADER = struct.Struct("<Q")  # the length of the pickled message that follows


@dataclass(frozen=True)
class Job:
    """One recipe's steps to run, as ``run_recipe`` takes them."""

    recipe: str  # a packaged name or a path: what ``recipe.load`` takes
    options: RunOptions
    skip: frozenset[tuple[str, int]]  # steps an earlier runner measured


@dataclass(frozen=True)
class OverheadJob:
    """Measure joblib's overhead per task on each backend, at ``workers`` workers."""

    backends: Sequence[str]
    workers: int
    scheduler: str | None


def send(channel: IO[bytes], message: tuple[Any, ...]) -> None:
    data = pickle.dumps(message)
    channel.write(HEADER.pack(len(data)) + data)
    channel.flush()


def main(argv: Sequence[str]) -> int:
    threading.Thread(target=_end_with_parent, args=(os.getppid(),), daemon=True).start()
    try:
        _run(int(argv[0]))
    except Exception as error:  # outside any variant (those are reported in their rows): one line
        print(f"{type(error).__name__}: {error}", file=sys.stderr)
        return 1
    return 0


def _end_with_parent(parent: int) -> None:
    """Kill this process group once the parent is gone: killed by SIGKILL, it could not do it."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os.killpg(0, signal.SIGKILL)


def _run(fd: int) -> None:
    with os.fdopen(fd, "wb") as channel:
        job: Job | OverheadJob = pickle.load(sys.stdin.buffer)
        if isinstance(job, OverheadJob):
            per_task = {b: task_overhead(b, job.workers, job.scheduler) for b in job.backends}
            send(channel, ("overhead", per_task))
            return
        recipe = load(job.recipe)
        run_recipe(
            recipe,
            job.options,
            on_step=lambda name, variant, workers, phase: send(channel, ("step", variant, workers, phase)),
            on_measured=lambda run, m: send(channel, ("measured", m.to_dict(), run.bytes_per_call)),
            skip=job.skip,
        )
        shutdown_process_pool()
        send(channel, ("thread_pools", environment.thread_pools()))


if __name__ == "__main__":  # run as cookbook.runner, not __main__, so the parent's pickles match its classes
    from cookbook.runner import main as runner_main

    sys.exit(runner_main(sys.argv[1:]))
