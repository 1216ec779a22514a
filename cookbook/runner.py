"""The process that runs one recipe's steps for ``cookbook.run``: ``python -m cookbook.runner FD``.

The parent (``cookbook.isolate``) writes a pickled :class:`Job` to this
process's stdin. This process runs the steps and reports on the file
descriptor ``FD``, one pickled, length-prefixed message at a time:

- ``("step", variant, workers, phase)`` as a step starts its first call
  and warm-up, and before each of its samples (phase ``round N``);
- ``("measured", measurement, bytes_per_call)`` when a step is done, the
  measurement in the dict form that ``--json`` writes;
- ``("thread_pools", pools)`` once every step has ended.

A :class:`CostsJob` instead measures what each executor costs besides the
work (``executor_overheads``) and sends ``("costs", overheads)``.

A :class:`KernelJob` runs a user's kernel for ``cookbook.advise``. Before
its steps, unless an earlier runner did, it watches a serial pass
(``cookbook.kernel.examine``, step ``serial``) and sends ``("examined",
Examined)``; compiles it with numba (step ``numba``, phase ``compiling``);
runs the chunks to time again, and sends ``("compiled", Examined)`` with
all of it. It sends ``("refused", line)`` when the kernel cannot be
measured (it raised, or its passes differ). After its steps it sends
``("overheads", (per_task, per_call))`` and ``("round_trip",
seconds_per_call)``: what loky's warm workers cost for these chunks with
no work in the tasks.

A step that hangs cannot be stopped from inside (a pure-Python thread cannot
be killed), so the parent kills this process's whole process group instead:
its threads, and the loky workers it started, go with it.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import pickle
import signal
import struct
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import IO, Any

from cookbook import environment, kernel
from cookbook.backends import interpreter_overheads, process_overheads, thread_overheads
from cookbook.measure import gil_reading, run_recipe
from cookbook.options import RunOptions
from cookbook.recipe import load
from cookbook.results import Measurement, RecipeRun, step_name
from cookbook.timing import shutdown_process_pool

__all__ = ["HEADER", "CostsJob", "Job", "KernelJob", "main", "send"]

HEADER = struct.Struct("<Q")  # the length of the pickled message that follows


@dataclass(frozen=True)
class Job:
    """One recipe's steps to run, as ``run_recipe`` takes them."""

    recipe: str  # a packaged name or a path: what ``recipe.load`` takes
    options: RunOptions
    skip: frozenset[tuple[str, int]]  # steps an earlier runner measured


@dataclass(frozen=True)
class KernelJob:
    """A user's kernel's ladder to check and measure (``cookbook.advise``)."""

    target: kernel.Target
    options: RunOptions
    skip: frozenset[tuple[str, int]]
    examined: kernel.Examined | None  # from an earlier runner: not examined nor compiled again
    chunk_file: str | None = None  # where the serial pass writes the index of the chunk it is on


@dataclass(frozen=True)
class CostsJob:
    """Measure each executor's start-up and cost per task at ``workers`` workers: threads, each
    process backend, and subinterpreters if ``interpreters``."""

    backends: Sequence[str]
    workers: int
    scheduler: str | None
    interpreters: bool


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
        job: Job | KernelJob | CostsJob = pickle.load(sys.stdin.buffer)
        if isinstance(job, KernelJob):
            _run_kernel(job, channel)
            return
        if isinstance(job, CostsJob):
            overheads = executor_overheads(job.workers, job.backends, job.scheduler, job.interpreters)
            send(channel, ("costs", overheads))
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


def _run_kernel(job: KernelJob, channel: IO[bytes]) -> None:
    """Examine and compile the kernel (unless done), check every rung on all chunks, time them on some."""
    target, options = job.target, job.options
    if job.examined is None:
        send(channel, ("step", "serial", 1, "checking the kernel"))
    try:
        function, chunks, combine, materialized = target.load()
        examined, results, compiled = job.examined, None, None
        if examined is None:
            examined, results, compiled = _examine(job, function, chunks, combine, channel)
            examined.materialized = materialized
            send(channel, ("compiled", examined))
    except kernel.KernelError as error:
        send(channel, ("refused", str(error)))
        return
    recipe = kernel.ladder_recipe(
        target.name,
        function,
        chunks,
        combine,
        examined.numba_reason,
        examined.interpreters_reason,
        (target.rtol, target.atol),
        compiled,
    )

    def on_step(name: str, variant: str, workers: int, phase: str) -> None:
        send(channel, ("step", variant, workers, phase))

    def on_measured(run: RecipeRun, m: Measurement) -> None:
        send(channel, ("measured", m.to_dict(), run.bytes_per_call))

    skip, timed = job.skip, options
    checked_first = not options.check_only and examined.sampled < len(chunks)
    if checked_first:  # check on every chunk, time on some
        finish = combine or (lambda results: results)
        checked = run_recipe(
            recipe,
            dataclasses.replace(options, check_only=True),
            on_step=lambda name, variant, workers, phase: on_step(name, variant, workers, "checked"),
            on_measured=lambda run, m: None if m.status == "OK" else on_measured(run, m),
            skip=skip if results is None else skip | {("serial", 1)},  # its results are known
            reference=None if results is None else lambda: copy.deepcopy(finish(results)),
            keep_pools=True,  # the pool its process rung starts is the one the timed pass uses
        )
        skip |= {(m.variant, m.workers) for m in checked.measurements if m.status != "OK"}
        timed = dataclasses.replace(options, sampling=options.sampling.replace(max_warmup=0))  # warmed now
    run = run_recipe(
        recipe,
        dataclasses.replace(timed, size=examined.sampled),
        on_step=on_step,
        on_measured=on_measured,
        skip=skip,
        keep_pools=checked_first,  # the check pass started them
        known_gil=None if examined.gil_held is None else {"serial": examined.gil_held},
    )
    if not options.check_only and max(options.workers) > 1:
        send(channel, ("aside", "python_threads", max(options.workers), "no-op tasks"))
        send(channel, ("overheads", _overheads(options, "python_interpreters" in recipe.variants)))
    processes = run.find("joblib_processes", max(options.workers))
    if processes is not None and processes.timed and processes.workers > 1:
        send(channel, ("aside", "joblib_processes", processes.workers, "shipping the chunks, no work"))
        sent = kernel.picked(len(chunks), examined.sampled)
        given = None if results is None else [results[i] for i in sent]
        seconds = kernel.pool_round_trip([chunks[i] for i in sent], given, processes.workers)
        send(channel, ("round_trip", seconds))
    shutdown_process_pool()
    send(channel, ("thread_pools", environment.thread_pools()))


def _examine(
    job: KernelJob,
    function: kernel.Kernel,
    chunks: list[Any],
    combine: kernel.Combine | None,
    channel: IO[bytes],
) -> tuple[kernel.Examined, list[Any], kernel.Kernel | None]:
    """The serial pass, numba's compile, then the chunks to time, run again; each sent as it ends.

    ``("examined", ...)`` goes first, without numba: if the compile hangs or
    kills this process, the parent goes on without the numba rungs. Returns
    the examined kernel, its results and the compiled kernel (None if numba
    cannot compile it).
    """
    target, options = job.target, job.options
    tol = (target.rtol, target.atol)
    examined, results = kernel.examine(function, chunks, target.name, partial(_note_chunk, job.chunk_file))
    send(channel, ("examined", examined))
    send(channel, ("step", "numba", 1, "compiling"))
    compiled, examined.numba_reason, examined.compile_s, compiled_s = kernel.compile_kernel(
        function, chunks[0]
    )
    examined.interpreters_reason = kernel.interpreters_reason(function, chunks[0])
    warm = kernel.timed(lambda: function(chunks[0]))  # the first call may have paid for a JIT
    examined.chunk_s[0] = min(examined.chunk_s[0], warm)
    speedup = 1.0
    if compiled is not None and compiled_s:
        examined.conversion = kernel.conversion(compiled, chunks[0], results[0], *tol)
        speedup = warm / compiled_s  # both warm, on the same chunk
    everything = options.check_only or options.sampling.mode == "rigorous"
    workers = max(options.workers)
    sampled = (
        len(chunks)
        if everything
        else kernel.sampled_count(examined.chunk_s, workers, speedup, examined.system_share)
    )
    send(channel, ("step", "serial", 1, "checking the kernel again"))
    kernel.check_again(function, chunks, results, combine, examined, tol, sampled=sampled, name=target.name)
    median = sorted(range(len(chunks)), key=examined.chunk_s.__getitem__)[len(chunks) // 2]
    examined.gil_held = gil_reading(
        partial(function, chunks[median])
    )  # one chunk: cheaper than the timed call
    return examined, results, compiled


def _note_chunk(path: str | None, index: int) -> None:
    """Write the chunk's index over the last one: the parent reads it if the pass hangs or dies."""
    if path is not None:
        with open(path, "w", encoding="ascii") as file:
            file.write(str(index))


def _overheads(options: RunOptions, interpreters: bool) -> tuple[dict[str, float], dict[str, float]]:
    """Seconds per no-op task and per call at the most workers: on threads, and on each process backend."""
    found = executor_overheads(max(options.workers), options.backends, options.scheduler, interpreters)
    return {e: f[0] for e, f in found.items()}, {e: f[1] for e, f in found.items()}


def executor_overheads(
    workers: int, backends: Sequence[str], scheduler: str | None, interpreters: bool
) -> dict[str, tuple[float, float, float]]:
    """Per executor, named as advise names them (threads, interpreters, processes[@dask]), what it
    costs besides the work at ``workers`` workers, in seconds: a no-op task on a warm pool; a call of
    one no-op task per worker as a variant makes it (on a new thread or interpreter pool, on joblib's
    kept process pool); and a new pool's start-up, its first such call.

    Measure the start-up in a fresh process: a loky pool already started would hide the processes'.
    """
    found: dict[str, tuple[float, float, float]] = {}
    per_task, per_call = thread_overheads(workers)
    found["threads"] = (per_task, per_call, per_call)  # each call starts its pool: the call is the start-up
    if interpreters:  # the ladder has the rung: this Python has them, and a kernel runs there
        per_task, per_call = interpreter_overheads(workers)
        found["interpreters"] = (per_task, per_call, per_call)
    for backend in backends:
        found[step_name("processes", backend)] = process_overheads(backend, workers, scheduler)
    return found


if __name__ == "__main__":  # run as cookbook.runner, not __main__, so the parent's pickles match its classes
    from cookbook.runner import main as runner_main

    sys.exit(runner_main(sys.argv[1:]))
