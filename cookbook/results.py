"""What a run measured: one typed model, and its one reader.

A :class:`Session` is one command's results: the environment it ran in
(with the copy bandwidth, the command, the date and the wall time), the
options, each recipe's :class:`RecipeRun` of :class:`Measurement` rows of
:class:`Sample` s, and, for ``python -m cookbook.advise``, the advice's own
measurements. ``cookbook.export.to_json`` writes it; :func:`read` reads it
back, whatever the consumer (``render``, ``compare``, advise). Only what was
measured is read back: every figure derived from it (median, speedup,
efficiency, flags...) is derived again by ``cookbook.figures``.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from cookbook.options import Sampling
from cookbook.recipe import Executor, kind_of

__all__ = [
    "READABLE_SCHEMAS",
    "SCHEMA_VERSION",
    "ExecutorCosts",
    "Measurement",
    "RecipeRun",
    "ResultsError",
    "Sample",
    "Session",
    "Status",
    "read",
    "step_name",
]

Status = Literal["OK", "MISMATCH", "ERROR", "TIMEOUT"]
# 3: flags drift, modes, busy, impossible, idle, few; each row's executor and function.
# 2: calibrated samples in rounds, intervals and flags. 1: repeats_s, no rounds.
SCHEMA_VERSION = 3
READABLE_SCHEMAS = (2, 3)
BACKEND_SEPARATOR = "@"  # a process variant on another backend than loky: joblib_processes@dask


def step_name(variant: str, backend: str | None) -> str:
    """A step's name: the recipe's variant, with @BACKEND when its joblib calls run elsewhere than loky."""
    return variant if backend in (None, "loky") else f"{variant}{BACKEND_SEPARATOR}{backend}"


class ResultsError(Exception):
    """A results file that cannot be read: one line naming the file and what is wrong."""


def _fields(cls: Any, record: dict[str, Any], required: tuple[str, ...]) -> dict[str, Any]:
    """The fields of ``record`` that ``cls`` has (derived figures and newer fields left out).

    KeyError names a required field the record lacks.
    """
    missing = [name for name in required if name not in record]
    if missing:
        raise KeyError(missing[0])
    known = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in record.items() if k in known}


@dataclass(frozen=True)
class Sample:
    """One timed sample: ``calls`` calls in a row, in round ``round``."""

    round: int
    per_call_s: float
    calls: int
    page_faults_per_call: float | None = None  # minor faults of this process (first touch of new memory)
    other_cores: float | None = None  # CPU taken by other processes meanwhile, in cores; None: unknown
    steal_cores: float | None = None  # taken by the hypervisor, in cores; None: unknown
    observed_s: float | None = None  # the wall time those two were measured over

    @property
    def seconds(self) -> float:
        return self.per_call_s * self.calls


@dataclass
class Measurement:
    """One step: a variant at one worker count (on one backend, for process variants)."""

    variant: str  # the step's name: the recipe's variant, with @BACKEND when not on loky
    workers: int
    status: Status
    detail: str = ""  # the mismatch or the error, empty when OK
    max_error: float | None = None
    first_s: float | None = None  # the first call: JIT compile, pool start
    warmup_s: list[float] = field(default_factory=list)  # the warm-up calls after it
    samples: list[Sample] = field(default_factory=list)  # empty with --check-only or on error
    stopped: str = ""  # why sampling ended: precision, budget, rounds, ranked
    rewarmed: int = 0  # warm-ups again because its process pool had been replaced
    inner_threads: int | None = None  # the BLAS thread limit it ran under; None: not limited
    limited_pools: list[str] = field(default_factory=list)  # the pools a worker thread saw limited
    gil_held: float | None = None  # share of a call's time it held the GIL (cookbook.probes), or None
    in_caller: bool = False  # a process variant whose work ran in this process: no pool at all
    backend: str | None = None  # where its joblib calls ran (loky, dask); None: it makes none
    cluster: str | None = None  # the dask cluster it ran on
    executor: Executor | None = None  # what runs its work: one thread, threads or processes
    function: str = ""  # the recipe's variant it calls: the step's name less any @BACKEND

    def __post_init__(self) -> None:
        """Rows made without their step's kind (schema 2 files, tests) take what the names declare."""
        function, _, backend = self.variant.partition(BACKEND_SEPARATOR)
        self.function = self.function or function
        self.executor = self.executor or kind_of(self.function).executor
        if self.executor == "processes" and self.backend is None:
            self.backend = backend or "loky"

    @property
    def timed(self) -> bool:
        return self.status == "OK" and bool(self.samples)

    @property
    def parallel(self) -> bool:
        """Whether it runs on more than one thread or process: its worker count means something."""
        return self.executor != "one thread"

    @property
    def per_call_s(self) -> list[float]:
        return [s.per_call_s for s in self.samples]

    @property
    def by_round(self) -> dict[int, float]:
        return {s.round: s.per_call_s for s in self.samples}

    def to_dict(self) -> dict[str, Any]:
        """What was measured, as JSON holds it (and as the runner sends it)."""
        return dataclasses.asdict(self)  # samples included: asdict recurses into them

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> Measurement:
        fields = _fields(cls, record, ("variant", "workers", "status"))
        fields["samples"] = [
            Sample(**_fields(Sample, s, ("round", "per_call_s", "calls")))
            for s in fields.get("samples") or []
        ]
        return cls(**fields)


@dataclass
class RecipeRun:
    """Every measurement of one recipe at one size."""

    recipe: str
    path: Path
    size: int
    size_label: str
    not_applicable: dict[str, str]
    sampling: Sampling | None = None  # None with --check-only
    measurements: list[Measurement] = field(default_factory=list)
    bytes_per_call: int | None = None  # memory a call reads and writes, at least
    thread_pools: dict[str, Any] | None = None  # the native pools of the process that ran it
    tasks: int | None = None  # the recipe's N_TASKS: how many tasks its parallel variants split into

    @property
    def ok(self) -> bool:
        return all(m.status == "OK" for m in self.measurements)

    def find(self, variant: str, workers: int) -> Measurement | None:
        return next((m for m in self.measurements if m.variant == variant and m.workers == workers), None)

    def to_dict(self) -> dict[str, Any]:
        """What was measured, as JSON holds it (``cookbook.export`` adds the derived figures)."""
        return {
            "recipe": self.recipe,
            "path": str(self.path),
            "size": self.size,
            "size_label": self.size_label,
            "not_applicable": self.not_applicable,
            "sampling": None if self.sampling is None else dataclasses.asdict(self.sampling),
            "bytes_per_call": self.bytes_per_call,
            "thread_pools": self.thread_pools,
            "tasks": self.tasks,
            "measurements": [m.to_dict() for m in self.measurements],
        }

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> RecipeRun:
        sampling = record.get("sampling")
        return cls(
            recipe=record["recipe"],
            path=Path(record["path"]),
            size=record["size"],
            size_label=record["size_label"],
            not_applicable=record["not_applicable"],
            sampling=None if sampling is None else Sampling(**sampling),
            measurements=[Measurement.from_dict(m) for m in record["measurements"]],
            bytes_per_call=record.get("bytes_per_call"),
            thread_pools=record.get("thread_pools"),
            tasks=record.get("tasks"),
        )


@dataclass(frozen=True)
class ExecutorCosts:
    """What each executor costs a run besides the work, at ``workers`` workers, measured once
    before the recipes (``cookbook.runner.executor_overheads``), by executor: threads,
    interpreters, processes, processes@dask."""

    workers: int
    per_task_s: dict[str, float]  # one no-op task on a warm pool
    startup_s: dict[str, float]  # a new pool's first call of one no-op task per worker
    error: str = ""  # why they were not measured

    def break_even_s(self, executor: str) -> float | None:
        """The work per task below which ``executor``'s tasks cost more than its workers save.

        On a pool kept across calls, ``n`` tasks of ``t`` seconds of work take ``n (t / w + o)`` on
        ``w`` workers at ``o`` per task: they beat serial's ``n t`` once ``t > o w / (w - 1)``.
        """
        w = self.workers
        cost = self.per_task_s.get(executor)
        return None if cost is None or w < 2 else cost * w / (w - 1)

    def to_dict(self) -> dict[str, Any]:
        if self.error:
            return {"workers": self.workers, "error": self.error}
        return {"workers": self.workers, "startup_s": self.startup_s, "per_task_s": self.per_task_s}

    @classmethod
    def from_environment(cls, environment: dict[str, Any]) -> ExecutorCosts | None:
        """The costs a run recorded, or None. Runs before 2026-12-08 recorded only joblib's cost
        per task, and only with dask (``joblib_task_overhead``, by backend)."""
        record = environment.get("executor_costs")
        if record is not None:
            return cls(
                workers=int(record["workers"]),
                per_task_s=dict(record.get("per_task_s") or {}),
                startup_s=dict(record.get("startup_s") or {}),
                error=str(record.get("error", "")),
            )
        joblib = environment.get("joblib_task_overhead")
        if joblib is None:
            return None
        per_task = joblib.get("per_task_s") or {}
        return cls(
            workers=int(joblib["workers"]),
            per_task_s={step_name("processes", backend): s for backend, s in per_task.items()},
            startup_s={},
            error=str(joblib.get("error", "")),
        )


@dataclass
class Session:
    """One command's results: where and how it ran, and every recipe run (and advice) it measured."""

    environment: dict[str, Any]  # cookbook.environment.collect(), the bandwidth, command, date, wall time
    options: dict[str, Any]  # what was asked, as RunOptions.as_dict() (and the targets) writes it
    runs: list[RecipeRun] = field(default_factory=list)
    complete: bool = True  # False for a run stopped early (Ctrl-C, SIGTERM): what it measured, no more
    advice: dict[str, Any] | None = None  # what python -m cookbook.advise measured besides the ladder

    @property
    def bandwidth(self) -> float | None:
        """The copy bandwidth the run measured (bytes/s), or None (--check-only)."""
        value = self.environment.get("memory_bandwidth_bytes_per_s")
        return float(value) if value else None

    @property
    def executor_costs(self) -> ExecutorCosts | None:
        return ExecutorCosts.from_environment(self.environment)

    @property
    def ok(self) -> bool:
        return all(run.ok for run in self.runs)

    def run(self, recipe: str) -> RecipeRun:
        found = next((r for r in self.runs if r.recipe == recipe), None)
        if found is None:
            names = ", ".join(r.recipe for r in self.runs)
            raise ResultsError(f"no recipe {recipe!r} in these results (they have {names})")
        return found

    def to_dict(self) -> dict[str, Any]:
        """What was measured, as JSON holds it (``cookbook.export.to_json`` adds the derived figures)."""
        record = {
            "schema": SCHEMA_VERSION,
            "complete": self.complete,
            "environment": self.environment,
            "options": self.options,
            "ok": self.ok,
            "recipes": [run.to_dict() for run in self.runs],
        }
        return record | ({"advice": self.advice} if self.advice is not None else {})

    @classmethod
    def from_dict(cls, record: Any, source: str) -> Session:
        """The session of a results file's JSON, or ResultsError in one line naming ``source``."""
        if not isinstance(record, dict) or "recipes" not in record or "environment" not in record:
            raise ResultsError(f"{source}: not a cookbook results file (written by --json)")
        schema = record.get("schema", 1)  # files from before the key was written are schema 1
        if schema not in READABLE_SCHEMAS:
            readable = " and ".join(map(str, READABLE_SCHEMAS))
            hint = "; run it again with this cookbook" if isinstance(schema, int) and schema < 2 else ""
            raise ResultsError(
                f"{source}: results schema {schema!r}; this cookbook reads schemas {readable}{hint}"
            )
        try:
            return cls(
                environment=dict(record["environment"]),
                options=dict(record.get("options") or {}),
                runs=[RecipeRun.from_dict(run) for run in record["recipes"]],
                complete=bool(record.get("complete", True)),
                advice=record.get("advice"),
            )
        except KeyError as error:
            raise ResultsError(f"{source}: a recipe or measurement has no {error.args[0]!r} field") from None
        except (TypeError, ValueError, AttributeError) as error:
            raise ResultsError(f"{source}: a field has the wrong form ({error})") from None


def read(path: Path, shown: str | None = None) -> Session:
    """The session of a results file, or ResultsError in one line naming it (as ``shown``, if given)."""
    source = shown or str(path)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResultsError(f"{source}: no such file") from None
    except OSError as error:
        raise ResultsError(f"{source}: cannot read it ({error.strerror})") from None
    except UnicodeDecodeError:
        raise ResultsError(f"{source}: not a JSON file (not UTF-8 text)") from None
    except json.JSONDecodeError as error:
        raise ResultsError(
            f"{source}: not a JSON file, or cut short ({error.msg}, line {error.lineno})"
        ) from None
    return Session.from_dict(record, source)
