"""Run a recipe (or a user's kernel) in a process of its own: a hang or a crash costs one step, not the run.

Each recipe runs in ``python -m cookbook.runner``, in a new process group.
Each step (a variant at one worker count) gets ``timeout`` seconds for its
first call and warm-up, and again for each of its samples. A step that
outlives it is reported as TIMEOUT; a step whose process dies (killed, out
of memory, aborted by native code) is an ERROR that names the signal.
Either way the whole process group is killed, threads and loky workers
included, and a fresh runner goes on with the steps left, calling
``serial`` again (untimed) for the reference answer.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import os
import pickle
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import IO, Any

import cookbook
from cookbook.kernel import Examined, KernelError, Target
from cookbook.measure import OnMeasured, OnStep, Step, fill_steps, in_plan_order, new_run, plan
from cookbook.options import RunOptions
from cookbook.recipe import Recipe
from cookbook.results import Measurement, RecipeRun, Status
from cookbook.runner import HEADER, CostsJob, Job, KernelJob

__all__ = ["DEFAULT_TIMEOUT_S", "KernelRun", "measure_executor_costs", "run_isolated", "run_kernel"]

DEFAULT_TIMEOUT_S = 300.0  # 10x the slowest step of "all" at the large size on 2 cores (28 s)
WORKQUEUE_ABORT = (
    "numba's workqueue threading layer aborts the process when parallel=True code runs from several "
    "threads at once; pip install tbb (or an OpenMP runtime) and numba picks a thread-safe layer, "
    "or call parallel=True code from one thread only"
)
GRACE_S = 2.0  # how long a finished runner's leftovers (loky's resource tracker) get to exit


def run_isolated(
    recipe: Recipe,
    options: RunOptions,
    *,
    on_step: OnStep,
    on_measured: OnMeasured,
    into: list[RecipeRun],
) -> RecipeRun:
    """Like ``measure.run_recipe``, in runner processes, with ``options.timeout_s`` per step and sample.

    The run is appended to ``into`` first, and each measurement as it arrives,
    so that a run interrupted half-way still holds what it measured.
    """
    run = new_run(recipe, options)
    into.append(run)
    steps = plan(recipe, options.variants, options.workers, options.backends)
    _run_steps(
        lambda done: Job(str(recipe.path), options, done), steps, run, options, _Events(on_step, on_measured)
    )
    return run


def _run_steps(
    job_for: Callable[[frozenset[tuple[str, int]]], Job | KernelJob],
    steps: Sequence[Step],
    run: RecipeRun,
    options: RunOptions,
    events: _Events,
    runner: _Runner | None = None,
    stdout: IO[bytes] | None = None,
) -> None:
    """Run the steps in runners, a new one after each that hangs or dies, until every step is measured."""
    while len(run.measurements) < len(steps):
        done = frozenset((m.variant, m.workers) for m in run.measurements)
        serial = run.find("serial", 1)
        if serial is not None and serial.status != "OK":  # a fresh runner would have no reference
            fill_steps(run, steps, "ERROR", f"no reference: serial {serial.status}", **events.as_kwargs())
            break
        with runner or _Runner(job_for(done), stdout) as current:
            ended_early = _follow(current, steps, run, options.timeout_s, events)
        runner = None
        if ended_early is None and len(run.measurements) == len(done):
            ended_early = "ERROR", "the runner ended without running its steps"
        if ended_early:
            fill_steps(run, steps, *ended_early, **events.as_kwargs())
            break
    in_plan_order(run, steps)


@dataclass
class KernelRun:
    """What the runners measured of a user's kernel: its ladder, its serial pass, loky's round trip."""

    run: RecipeRun
    examined: Examined | None  # None when the serial pass did not end (hung, crashed)
    round_trip_s: float | None = None
    output: str = ""  # what the kernel printed, kept apart from the report
    overheads: tuple[dict[str, float], dict[str, float]] = ({}, {})  # per no-op task, per call: by executor


def run_kernel(
    target: Target,
    recipe_for: Callable[[str | None, str | None], Recipe],
    options: RunOptions,
    *,
    on_step: OnStep,
    on_measured: OnMeasured,
    into: list[RecipeRun],
) -> KernelRun:
    """Check and measure a user's kernel in runner processes, as ``run_isolated`` does a recipe.

    ``recipe_for(numba_reason, interpreters_reason)`` builds the ladder the runners measure, so that
    this process knows its steps. A runner that hangs or dies in the serial
    pass costs every step (there is no reference); one that does so while
    numba compiles costs the numba rungs, and a fresh runner goes on without
    them. What the kernel prints goes to a file, returned as ``output``.
    KernelError when the kernel cannot be measured (it raised, or its passes differ).
    """
    events = _Events(on_step, on_measured, {})
    with tempfile.TemporaryFile() as output, tempfile.NamedTemporaryFile("r") as chunk_file:
        runner = _Runner(KernelJob(target, options, frozenset(), None, chunk_file.name), stdout=output)
        try:
            examined, failed = _examine(runner, target.name, options.timeout_s, events, chunk_file.name)
            if examined is None:
                recipe = recipe_for(NOT_TRIED, NOT_TRIED)
            else:
                recipe = recipe_for(examined.numba_reason, examined.interpreters_reason)
            sized = options if examined is None else dataclasses.replace(options, size=examined.sampled)
            run = new_run(recipe, sized)
            into.append(run)
            steps = plan(recipe, options.variants, options.workers, options.backends)
            if failed is not None:
                events.measured(run, steps[0].measurement(*failed))
                fill_steps(run, steps, "ERROR", f"no reference: serial {failed[0]}", **events.as_kwargs())
            elif examined is not None:
                alive = runner if runner.process.poll() is None else None
                job_for = partial(KernelJob, target, options, examined=examined)
                _run_steps(lambda done: job_for(skip=done), steps, run, options, events, alive, output)
        finally:
            runner.close()  # ended already, unless interrupted
        output.seek(0)
        printed = output.read().decode(errors="replace")
    overheads = events.others.get("overheads", ({}, {}))
    return KernelRun(run, examined, events.others.get("round_trip"), printed, overheads)


def _chunk(path: str) -> str:
    """The index of the chunk the serial pass was on, as the runner wrote it, counted from 0."""
    written = Path(path).read_text().strip()
    return f"{written}, counted from 0" if written else "unknown"


NOT_TRIED = "not tried: the serial pass over the chunks did not end"


def _examine(
    runner: _Runner, name: str, timeout: float, events: _Events, chunk_file: str
) -> tuple[Examined | None, tuple[Status, str] | None]:
    """The kernel's serial pass and numba's compile, from the first runner; or how the pass failed.

    A pass that hangs or dies is said with the chunk it was on (the runner
    writes its index to ``chunk_file``). A runner that hangs or dies while
    numba compiles costs the numba rungs only: the examined kernel comes back
    with numba's reason set to what happened.
    """
    examined: Examined | None = None
    phase = "checking the kernel"
    while True:
        kind, *body = runner.receive(time.monotonic() + timeout)
        if kind == "step":
            phase = body[2]
            events.on_step(name, body[0], body[1], phase)
        elif kind == "examined":
            examined = body[0]
        elif kind == "compiled":
            examined = body[0]
            return examined, None
        elif kind == "refused":
            raise KernelError(body[0])
        elif kind in ("timeout", "ended"):
            if kind == "timeout":
                runner.kill()
                how = f"was stopped after {timeout:g} s (--timeout)"
            else:
                how = f"ended: its process {runner.cause_of_end() or 'exited'}"
            if examined is None or phase != "compiling":
                status: Status = "TIMEOUT" if kind == "timeout" else "ERROR"
                where = f" (in chunk {_chunk(chunk_file)})" if examined is None else " again"
                return None, (status, f"the serial pass{where} {how}")
            examined.numba_reason = f"numba's compile {how}"
            return examined, None


@dataclass(frozen=True)
class _Events:
    on_step: OnStep
    on_measured: OnMeasured
    others: dict[str, Any] = field(default_factory=dict)  # a runner's other messages, by kind

    def as_kwargs(self) -> dict[str, Any]:
        return {"on_step": self.on_step, "on_measured": self.on_measured}

    def measured(self, run: RecipeRun, measurement: Measurement) -> None:
        run.measurements.append(measurement)
        self.on_measured(run, measurement)


def measure_executor_costs(
    backends: Sequence[str], workers: int, scheduler: str | None, interpreters: bool, timeout: float
) -> dict[str, tuple[float, float, float]] | str:
    """``cookbook.runner.executor_overheads``, measured in a fresh runner; or why it failed."""
    with _Runner(CostsJob(backends, workers, scheduler, interpreters)) as runner:
        kind, *body = runner.receive(time.monotonic() + timeout)
        if kind == "costs":
            overheads: dict[str, tuple[float, float, float]] = body[0]
            return overheads
        if kind == "timeout":
            return f"no answer within {timeout:g} s"
        return f"the runner {runner.cause_of_end() or 'ended without an answer'}"


def _follow(
    runner: _Runner, steps: Sequence[Step], run: RecipeRun, timeout: float, events: _Events
) -> tuple[Status, str] | None:
    """Follow one runner's steps until it ends, hangs or dies.

    Returns None when the runner can be replaced to go on with the steps
    left, or the status and detail for every step left when it cannot (it
    failed before its first step: the next one would too). A step that hangs
    or kills its runner is recorded as such; the steps the runner had not
    finished are run again, from their first call, by the next runner.
    """
    planned = {step.key: step for step in steps}
    current: Step | None = None
    deadline = time.monotonic() + timeout
    while True:
        kind, *body = runner.receive(deadline)
        if kind == "timeout":
            runner.kill()
            if current is None:
                return "TIMEOUT", f"no step started within {timeout:g} s (make_input, or serial again)"
            detail = f"stopped after {timeout:g} s (--timeout); its threads and processes were killed"
            events.measured(run, current.measurement("TIMEOUT", detail))
            return None
        if kind == "ended":
            cause = runner.cause_of_end()
            if current is None:
                return ("ERROR", f"runner {cause}") if cause else None
            events.measured(run, current.measurement("ERROR", f"its process {cause}"))
            return None
        if kind == "step":
            current = planned[(body[0], body[1])]
            events.on_step(run.recipe, current.variant, current.workers, body[2])
        elif kind == "aside":  # after the steps: progress, but no step to charge a failure to
            events.on_step(run.recipe, body[0], body[1], body[2])
        elif kind == "measured":
            measurement = Measurement.from_dict(body[0])
            if measurement.variant == "serial":
                run.bytes_per_call = body[1]
            events.measured(run, measurement)
            current = None
        elif kind == "thread_pools":
            run.thread_pools = body[0]
        else:
            events.others[kind] = body[0]
        deadline = time.monotonic() + timeout


class _Runner:
    """One ``python -m cookbook.runner`` process, in a process group of its own."""

    def __init__(self, job: Job | KernelJob | CostsJob, stdout: IO[bytes] | None = None) -> None:
        read_end, write_end = os.pipe()
        root = str(Path(cookbook.__file__).parent.parent)  # so the runner imports this cookbook
        path = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cookbook.runner", str(write_end)],
            stdin=subprocess.PIPE,
            stdout=stdout,  # None: this process's; a kernel's prints go to a file instead
            stderr=subprocess.PIPE,
            pass_fds=(write_end,),
            start_new_session=True,  # its own process group: killpg reaches its workers too
            env={**os.environ, "PYTHONPATH": path},
        )
        os.close(write_end)
        self.messages = read_end
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=20)
        self._relay = threading.Thread(target=self._relay_stderr, args=(self.process.stderr,), daemon=True)
        self._relay.start()
        assert self.process.stdin is not None
        with self.process.stdin as stdin:
            pickle.dump(job, stdin)

    def __enter__(self) -> _Runner:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Kill what is left of the runner's process group, and close its channel (once)."""
        if self.messages < 0:
            return
        if self.process.poll() is None:
            self.kill()  # an interrupt (Ctrl-C, SIGTERM) or a fault in the parent
        else:  # ended: loky's resource tracker may still be tidying up; then nothing may stay
            stop = time.monotonic() + GRACE_S
            while self._group_alive() and time.monotonic() < stop:
                time.sleep(0.05)
            self.kill()
        os.close(self.messages)
        self.messages = -1

    def receive(self, deadline: float) -> tuple[Any, ...]:
        """The next message; ``("timeout",)`` if none came by ``deadline``, ``("ended",)`` at the end."""
        remaining = deadline - time.monotonic()
        ready, _, _ = select.select([self.messages], [], [], max(0.0, remaining))
        if not ready:
            return ("timeout",)
        header = self._read(HEADER.size)
        body = self._read(HEADER.unpack(header)[0]) if len(header) == HEADER.size else b""
        if not body:
            return ("ended",)
        message: tuple[Any, ...] = pickle.loads(body)
        return message

    def _read(self, size: int) -> bytes:
        """``size`` bytes, or fewer if the runner ended. Unbuffered, so that select() sees all there is."""
        chunks = []
        while size:
            chunk = os.read(self.messages, size)
            if not chunk:
                break
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)

    def cause_of_end(self) -> str | None:
        """None for a clean exit, else how the runner ended, with the last line it wrote to stderr."""
        status = self.process.wait()
        self._relay.join(timeout=1.0)
        if status == 0:
            return None
        if status < 0:
            cause = f"died of {signal.Signals(-status).name}"
            if -status == signal.SIGKILL:
                cause += " (killed: out of memory, or by hand)"
        else:
            cause = f"exited with status {status}"
        if any("workqueue threading layer" in line for line in self.stderr_tail):
            return f"{cause}: {WORKQUEUE_ABORT}"
        last = next((line.strip() for line in reversed(self.stderr_tail) if line.strip()), "")
        return f"{cause}: {last}" if last else cause

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):  # the group is empty already
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def _group_alive(self) -> bool:
        """Whether a process of the runner's group still runs; zombies waiting for init do not count."""
        proc = Path("/proc")
        if not proc.is_dir():  # no /proc (macOS): ask the kernel, zombies included
            try:
                os.killpg(self.process.pid, 0)
            except ProcessLookupError:
                return False
            return True
        for entry in proc.iterdir():
            try:
                stat = (entry / "stat").read_text() if entry.name.isdigit() else ""
            except OSError:  # ended meanwhile
                continue
            fields = stat.rpartition(")")[2].split()  # after "(command)", which may hold spaces
            if fields and fields[0] != "Z" and int(fields[2]) == self.process.pid:
                return True
        return False

    def _relay_stderr(self, stream: IO[bytes] | None) -> None:
        """Pass the runner's stderr through (warnings, a recipe's own messages), keeping the last lines."""
        assert stream is not None
        for raw in stream:
            line = raw.decode(errors="replace")
            self.stderr_tail.append(line)
            sys.stderr.write(line)
