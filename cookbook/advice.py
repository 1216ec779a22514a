"""What the measured ladder of a user's kernel says: the variant that pays, and why the others do not.

``cookbook.advise`` measures; this module only reads what it measured (an
``Advice``), so that every sentence it writes can be traced to a figure:

- the **recommendation** is the fastest variant that beats ``serial`` for sure
  (the low end of its speedup's 95% interval above 1) and by at least
  ``WORTH_IT`` (10%: less is not worth a change of code), followed by each other
  rung at the most workers with what limits it: the GIL (the probe's share of
  a call, and for numba what holds it), a kernel already parallel, memory,
  uneven chunks, chunks too small for threads, or what processes cost against
  the work per worker (``cookbook.diagnosis`` words each cause);
- Python threads are never advised on a build with a GIL when a call holds the
  GIL most of the time, nor any rung faster than its one-thread rung by more
  than its workers: such a speedup can only be noise;
- the **evidence** opens with how sure the verdict is (the advised rung's
  interval against the next best's), then each rung's figures and each cause;
- where nothing pays, it says why: chunks smaller than the break-even work per
  chunk, a memory-bound kernel, or the evidence to read.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from cookbook import diagnosis, export, report
from cookbook.figures import Figures, Row, derive
from cookbook.kernel import FRESH_MEMORY_SHARE, Examined, Shipping, imbalance_bound, picked
from cookbook.results import RecipeRun, Session, step_name
from cookbook.stats import Interval

__all__ = ["ADVICE", "GIL_BOUND_SHARE", "WORTH_IT", "Advice", "Printed"]

# A call that holds the GIL for at least this share of its time cannot overlap with another.
GIL_BOUND_SHARE = 0.5
# A variant is advised only if it gains at least this much: a few per cent is not worth a change of code.
WORTH_IT = 1.1
# A start-up this share of a call or more is named as what holds the interpreters rung back.
STARTUP_SHARE = 0.1

ADVICE = {
    "numba_threads": "compile it with numba (nogil=True) and run it on threads",
    "numba": "compile it with numba",
    "python_threads": "run it on threads: the kernel leaves the GIL free",
    "joblib_processes": "run it in worker processes (joblib)",
    "joblib_processes@dask": "run it on a dask cluster (joblib's dask backend)",
    "python_interpreters": "run it on subinterpreters, one GIL each (InterpreterPoolExecutor)",
}


@dataclass(frozen=True)
class Printed:
    """What the kernel printed while it was measured: kept apart from the report, summed up in a line."""

    lines: int
    first: str  # its first line, cut short

    @classmethod
    def of(cls, output: str) -> Printed | None:
        if not output:
            return None
        lines = output.splitlines()
        first = next((line for line in lines if line.strip()), "")
        return cls(len(lines), first if len(first) <= 80 else first[:77] + "...")


@dataclass
class Advice:
    """The measured ladder for one kernel, and what it says."""

    name: str
    session: Session  # the ladder's run, where it ran and how it was asked for
    numba_reason: str | None = None  # why numba could not compile the kernel, if it could not
    compile_s: float | None = None  # numba's compile time, apart from any timing
    shipping: Shipping | None = None
    overhead_s: dict[str, float] = field(default_factory=dict)  # per no-op task: threads, processes[@dask]
    call_overhead_s: dict[str, float] = field(default_factory=dict)  # per call, however few its tasks
    examined: Examined | None = None  # the serial pass watched in the runner; None in older files
    round_trip_s: float | None = None  # a call of no-op tasks carrying the chunks through loky's workers
    printed: Printed | None = None  # what the kernel printed, if anything
    materialized: str | None = None  # which chunks were iterators, made lists once

    @property
    def run(self) -> RecipeRun:
        return self.session.run(self.name)

    @cached_property
    def figures(self) -> Figures:
        """The ladder's rows, derived once."""
        return derive(self.run, self.session.bandwidth)

    @property
    def environment(self) -> dict[str, Any]:
        return self.session.environment

    @property
    def workers(self) -> int:
        return self.figures.most_workers

    @property
    def chunks(self) -> int:
        """How many chunks, one task each, a timed call of the ladder runs."""
        return self.run.size or 1

    @property
    def work_per_chunk_s(self) -> float | None:
        """Serial's median over the number of chunks: the work one task carries."""
        return self.work_per_chunk_at("serial")

    def work_per_chunk_at(self, variant: str) -> float | None:
        """The work one chunk holds at ``variant``'s speed on one worker (numba's is shorter)."""
        one = self.figures.timed(variant, 1)
        return None if one is None or one.median is None else one.median.value / self.chunks

    @property
    def break_even_s(self) -> dict[str, float]:
        """Per executor, the work per chunk below which it cannot beat serial.

        With ``w`` workers, ``n`` chunks of ``t`` seconds of work each take
        ``n (t / w + o) + c`` on an executor whose tasks cost ``o`` each (for
        processes, the overhead plus shipping the chunk) and whose calls cost
        ``c``: it beats serial's ``n t`` only once ``t > (o + c / n) w / (w - 1)``.
        """
        w = self.workers
        return (
            {}
            if w < 2
            else {executor: self.task_cost(executor) * w / (w - 1) for executor in self.overhead_s}
        )

    def task_cost(self, executor: str) -> float:
        """What a task pays on ``executor`` besides its work: its overhead, shipping, its share of a call."""
        shipped = self.shipping.seconds if self.shipping and executor != "threads" else 0.0
        per_call = self.call_overhead_s.get(executor, 0.0) / self.chunks
        return self.overhead_s[executor] + shipped + per_call

    @property
    def recommendation(self) -> str:
        """The variant that pays, in plain words, with its speedup and what limits the others."""
        return _recommendation(self)

    @property
    def evidence(self) -> list[str]:
        """One line per variant at the most workers (and each one-thread variant), then the costs."""
        return _evidence(self)

    def table(self) -> str:
        """Every variant's row, as Markdown."""
        return export.recipe_markdown(self.figures)

    def to_markdown(self, title: str | None = None) -> str:
        """The recommendation, its evidence and the table, as ``--markdown`` writes them."""
        lines = [f"# {title or self.name}", "", f"**{self.recommendation}**", ""]
        lines += [f"- {line}" for line in self.evidence] + ["", self.table(), ""]
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        """What IPython and Jupyter display: :meth:`to_markdown`."""
        return self.to_markdown()

    def to_dict(self) -> dict[str, Any]:
        return {
            "kernel": self.name,
            "recommendation": self.recommendation,
            "evidence": self.evidence,
            "numba_reason": self.numba_reason,
            "compile_s": self.compile_s,
            "shipping": None if self.shipping is None else vars(self.shipping),
            "work_per_chunk_s": self.work_per_chunk_s,
            "overhead_per_task_s": self.overhead_s,
            "overhead_per_call_s": self.call_overhead_s,
            "break_even_work_per_chunk_s": self.break_even_s,
            "examined": None if self.examined is None else self.examined.to_dict(),
            "round_trip_s": self.round_trip_s,
            "printed": None if self.printed is None else vars(self.printed),
            "materialized": self.materialized,
        }

    def results(self) -> Session:
        """The session with this advice in it, as ``--json`` writes it."""
        return dataclasses.replace(self.session, advice=self.to_dict())

    @classmethod
    def from_session(cls, session: Session) -> Advice:
        """The advice of a results file of ``python -m cookbook.advise --json``, judged again.

        Only the measurements are read back: the recommendation and evidence are
        derived from them by this version's rules, as when they were measured.
        """
        record = session.advice or {}
        shipping = record.get("shipping")
        return cls(
            name=record["kernel"],
            session=session,
            numba_reason=record.get("numba_reason"),
            compile_s=record.get("compile_s"),
            shipping=None if shipping is None else Shipping(**shipping),
            overhead_s=record.get("overhead_per_task_s") or {},
            call_overhead_s=record.get("overhead_per_call_s") or {},
            examined=None if record.get("examined") is None else Examined.from_dict(record["examined"]),
            round_trip_s=record.get("round_trip_s"),
            printed=None if record.get("printed") is None else Printed(**record["printed"]),
            materialized=record.get("materialized"),
        )

    def __repr__(self) -> str:
        return "\n".join([f"{self.name}: {self.recommendation}", *(f"  - {line}" for line in self.evidence)])


def _times(value: Interval | None) -> str:
    """A speedup as ``1.85x [1.63-1.91]``."""
    return report.format_interval(value).replace(" ", "x ", 1) if value is not None else "-"


def _ratio(value: Interval | None) -> str:
    """A speedup's median alone, ``1.85x``."""
    return "-" if value is None else f"{value.value:.2f}x"


def _pays(speedup: Interval | None) -> bool:
    """Faster for sure (the interval's low end above 1; the median, with no interval) and by ``WORTH_IT``."""
    if speedup is None:
        return False
    return (speedup.value if speedup.low is None else speedup.low) > 1.0 and speedup.value >= WORTH_IT


ONE_THREAD = {"python_threads": "serial", "numba_threads": "numba"}  # the same calls, on one thread


def _gil_held(advice: Advice, row: Row) -> float | None:
    """The share of a one-worker call of this variant (or of its one-thread rung) that held the GIL."""
    variant = row.measurement.variant
    one = advice.figures.row(variant, 1) or advice.figures.row(ONE_THREAD.get(variant, variant), 1)
    held = None if one is None else one.measurement.gil_held
    return held if advice.environment["gil_enabled"] else None


def _superlinear(advice: Advice, row: Row) -> bool:
    """Faster than its one-thread rung by more than its workers, beyond both intervals: that time is off."""
    m = row.measurement
    if not m.parallel or row.median is None or row.median.high is None:
        return False
    base = ONE_THREAD.get(m.function, "serial")  # processes run serial's calls
    one = advice.figures.timed(m.variant, 1) or advice.figures.timed(base, 1)
    low = None if one is None or one.median is None else one.median.low
    return low is not None and low > m.workers * row.median.high


def _holds_gil(advice: Advice, row: Row, share: float = GIL_BOUND_SHARE) -> bool:
    held = _gil_held(advice, row)
    return held is not None and held >= share


def _candidates(advice: Advice) -> list[Row]:
    """Timed variants that could be advised: one-thread ones, and the others above 1 worker."""
    return [
        row
        for row in advice.figures
        if row.median
        and row.measurement.variant != "serial"
        and (row.measurement.workers > 1 or not row.measurement.parallel)
        and not (row.measurement.variant == "python_threads" and _holds_gil(advice, row))
        and not _superlinear(advice, row)
    ]


def _best(advice: Advice) -> Row | None:
    """The fastest candidate; of those whose intervals overlap its own, the one on the fewest workers.

    Rungs the intervals cannot tell apart are ranked by what they cost, so
    that the verdict does not flip between runs on noise.
    """
    ranked = sorted(_candidates(advice), key=lambda r: r.median.value if r.median else math.inf)
    if not ranked:
        return None
    fastest = ranked[0]
    tied = [row for row in ranked if _overlap(fastest, row)]
    return min(tied, key=lambda r: r.measurement.workers)  # stable: the faster of equal workers


def _overlap(one: Row, other: Row) -> bool:
    """Whether two rows' 95% intervals overlap (a row is its own tie)."""
    if one is other:
        return True
    a, b = one.median, other.median
    if a is None or b is None or a.low is None or a.high is None or b.low is None or b.high is None:
        return False
    return a.low <= b.high and b.low <= a.high


def _rate(advice: Advice, row: Row) -> tuple[float, float] | None:
    """The bytes per second this row moves and the machine's copy bandwidth, where both are known."""
    bandwidth = advice.session.bandwidth
    return (row.bytes_per_s, bandwidth) if row.bytes_per_s and bandwidth else None


def _gbps(value: float) -> str:
    return f"{value / 1e9:.1f} GB/s"


def _task_cost(advice: Advice, row: Row) -> float | None:
    """What one task of a process or interpreter variant costs besides its work (``Advice.task_cost``)."""
    m = row.measurement
    if m.executor == "interpreters":
        executor = "interpreters"
    elif m.executor != "processes" or m.backend is None:
        return None
    else:
        executor = step_name("processes", m.backend)
    return advice.task_cost(executor) if executor in advice.overhead_s else None


def _limit(advice: Advice, row: Row) -> str | None:
    """What holds this variant back, if the measurements say, and what would change it."""
    m, examined = row.measurement, advice.examined
    if m.variant == "numba_threads" and _holds_gil(advice, row, diagnosis.NUMBA_GIL_SHARE):
        conversion = None if examined is None else examined.conversion
        return diagnosis.numba_gil(_gil_held(advice, row), conversion)
    if _holds_gil(advice, row):
        return f"a call holds the GIL {_gil_held(advice, row):.0%} of the time"
    if examined is not None and m.parallel and examined.cores_used >= diagnosis.PARALLEL_ALREADY:
        return f"a serial call already keeps {examined.cores_used:.1f} cores busy (see below)"
    rated = _rate(advice, row)
    if rated and row.bound == "memory":
        return f"memory-bound, at least {_gbps(rated[0])} of the machine's {_gbps(rated[1])}"
    if examined is not None and m.parallel and diagnosis.imbalance(examined, m.workers):
        return f"uneven chunks: an efficiency of {imbalance_bound(examined.chunk_s, m.workers):.2f} at most"
    threads, own_work = advice.break_even_s.get("threads"), advice.work_per_chunk_at(m.variant)
    if m.executor == "threads" and threads is not None and own_work is not None and own_work < threads:
        return (  # compiled, a chunk's work can shrink below what a threaded task costs
            f"at its speed a chunk holds {report.format_seconds(own_work)} of work, "
            f"less than the {report.format_seconds(threads)} threads pay for"
        )
    if m.executor == "processes" and m.backend == "loky" and advice.round_trip_s is not None:
        return _process_limit(advice, row)
    if m.executor == "interpreters" and (started := _interpreter_limit(advice, row)):
        return started
    cost, work = _task_cost(advice, row), advice.work_per_chunk_s
    if cost is not None and work and cost > 0.05 * work:
        return (
            f"each task costs {report.format_seconds(cost)} (pickling, the pool and its share of a call) "
            f"against {report.format_seconds(work)} of work"
        )
    return None


def _interpreter_limit(advice: Advice, row: Row) -> str | None:
    """The start-up of a call's interpreters, when it weighs on the row: each call starts its pool."""
    start, serial = advice.call_overhead_s.get("interpreters"), advice.figures.timed("serial", 1)
    if start is None or serial is None or serial.median is None or row.median is None:
        return None
    if start < STARTUP_SHARE * row.median.value:
        return None
    workers = row.measurement.workers
    return (
        f"a call starts its {workers} interpreters, {report.format_seconds(start)}, beside "
        f"{report.format_seconds(serial.median.value / workers)} of work per worker, against "
        f"{report.format_seconds(row.median.value)} measured: keep one pool for many calls"
    )


def _process_limit(advice: Advice, row: Row) -> str | None:
    """loky's real cost for these chunks against the work per worker; and whether they add up to the row."""
    serial, trip = advice.figures.timed("serial", 1), advice.round_trip_s
    if serial is None or serial.median is None or row.median is None or trip is None:
        return None
    workers = row.measurement.workers
    said, add_up = diagnosis.process_costs(
        row.median, serial.median.value, workers, trip, _timed_balance(advice, workers)
    )
    return said if trip > 0.05 * serial.median.value / workers or add_up is False else None


def _timed_balance(advice: Advice, workers: int) -> float:
    """The best efficiency ``workers`` can reach on the chunks a timed call runs."""
    examined = advice.examined
    if examined is None:
        return 1.0
    times = examined.chunk_s
    return imbalance_bound([times[i] for i in picked(len(times), examined.sampled)], workers)


def _others(advice: Advice, best: Row | None) -> list[str]:
    """Every other rung at the most workers: its speedup and what limits it."""
    clauses = []
    for row in advice.figures:
        m = row.measurement
        if row is best or m.workers != advice.workers or m.variant == "serial":
            continue
        if m.status != "OK":
            clauses.append(f"{m.variant}: {m.status} ({m.detail.partition(':')[0]})")
            continue
        if not row.median:
            continue
        limit = _limit(advice, row)
        clauses.append(f"{m.variant} {_ratio(row.speedup)}" + (f": {limit}" if limit else ""))
    return clauses


SEE_EVIDENCE = "see the evidence"


def _why_serial(advice: Advice) -> str:
    work = advice.work_per_chunk_s
    cheapest = min(advice.break_even_s.items(), key=lambda item: item[1], default=None)
    if work is not None and cheapest is not None and work < cheapest[1]:
        return (
            f"each chunk holds {report.format_seconds(work)} of work, and {cheapest[0]} pay only above "
            f"{report.format_seconds(cheapest[1])}: give each chunk more work"
        )
    serial = advice.figures.row("serial", 1)
    rated = None if serial is None else _rate(advice, serial)
    if rated and serial is not None and serial.bound == "memory":
        return (
            f"the kernel is memory-bound: one thread streams {_gbps(rated[0])}, "
            f"{rated[0] / rated[1]:.0%} of the machine's copy bandwidth, so more workers queue for memory"
        )
    return SEE_EVIDENCE


def _recommendation(advice: Advice) -> str:
    """The verdict, then what skews it: one sample a rung (``--quick``), or a kernel that prints."""
    verdict = _verdict(advice)
    if advice.run.sampling is not None and advice.run.sampling.max_rounds < 2:
        verdict += "; a first look (--quick): one sample a rung, no interval"
    if advice.printed is not None:
        verdict += f"; the kernel printed {advice.printed.lines:,} lines, and its times include printing them"
    return verdict


def _verdict(advice: Advice) -> str:
    """The advice in one line, and, where it happened, that an import turned the GIL back on."""
    said = _advised(advice)
    module = (advice.run.thread_pools or {}).get("gil_reenabled_by")
    if module and advice.environment.get("free_threaded_build"):
        said += f"; {report.gil_reenabled(module)}, so the thread rungs ran with a GIL, not free-threaded"
    return said


def _advised(advice: Advice) -> str:
    run, cores = advice.run, advice.environment["cores"]["usable"]
    best, serial = _best(advice), advice.figures.timed("serial", 1)
    if run.sampling is None:
        agreed = (
            "every variant agreed with serial" if run.ok else "a variant failed or disagreed: see the table"
        )
        return f"checked only, nothing timed: {agreed}"
    if serial is None:
        return "nothing could be timed: see the table"
    speedup = None if best is None else best.speedup
    if best is not None and _pays(speedup):
        m = best.measurement
        where = "on one thread" if m.workers == 1 else f"at {m.workers} workers on {cores} cores"
        head = f"{ADVICE.get(m.variant, f'use {m.variant}')}: {_times(speedup)} serial {where}"
        return "; ".join([head, *_others(advice, best)])
    why, named = _why_serial(advice), None
    if why == SEE_EVIDENCE and best is not None and speedup is not None and speedup.value > 1.0:
        short = (
            f"less than {WORTH_IT}x" if speedup.value < WORTH_IT else "not for sure (its interval reaches 1)"
        )
        fastest = f"{best.measurement.variant} x{best.measurement.workers}"
        why = f"the fastest, {fastest}, gains {_times(speedup)}, {short}"
        named = best
    others = _others(advice, named)
    shown = f" ({why})" if why != SEE_EVIDENCE or not others else ""  # else the others say what limits them
    return "; ".join([f"stay serial: no variant pays on {cores} cores{shown}", *others])


def _evidence(advice: Advice) -> list[str]:
    """What the verdict rests on: how sure it is, each rung's figures, then each cause found and the costs."""
    run, lines = advice.run, [_certainty(advice)]
    work, examined = advice.work_per_chunk_s, advice.examined
    if work is not None:
        total = len(examined.chunk_s) if examined is not None else advice.chunks
        timed_on = f"timed on {advice.chunks} of the {total} chunks, evenly spaced; every rung was checked "
        whole = f"{total} chunks"
        if examined is not None and examined.system_share >= FRESH_MEMORY_SHARE and run.sampling is not None:
            whole = f"timed on all {total}: what its page faults cost depends on the calls before (see below)"
        lines.append(
            f"serial: {report.format_seconds(work)} of work per chunk; "
            + (f"{timed_on}on all {total}" if advice.chunks < total else whole)
        )
    for row in advice.figures:
        m = row.measurement
        shown = m.workers == advice.workers or not m.parallel
        if not row.median or not shown or m.variant == "serial":
            continue
        line = f"{m.variant} x{m.workers}: {_times(row.speedup)} serial"
        impossible = next((flag.reason for flag in row.flags if flag.kind == "impossible"), None)
        if _superlinear(advice, row):
            line += f", more than {m.workers} workers can give over one thread: not used as evidence"
        elif impossible:
            line += f"; its efficiency is not used: {impossible}"
        elif m.workers > 1 and row.efficiency is not None:
            line += f", efficiency {report.format_interval(row.efficiency)}"
        held = _gil_held(advice, row)
        if held is not None:
            line += f"; a call holds the GIL {held:.0%} of the time"
        lines.append(line)
    failed = [m for m in run.measurements if m.status != "OK"]
    lines += [f"{m.variant} x{m.workers}: {m.status}: {m.detail}" for m in failed]
    errors = [m.max_error for m in failed if m.status == "MISMATCH" and m.max_error is not None]
    if errors:
        lines.append(
            f"floats differed from serial's by up to {max(errors):.3g} (another order of additions?): "
            "--rtol or --atol says what difference you accept"
        )
    lines += _causes(advice)
    lines += _memory_lines(advice)
    if not advice.environment["gil_enabled"]:
        lines.append("this Python runs without a GIL: python_threads is the row to read")
    if advice.numba_reason:
        lines.append(f"numba: {advice.numba_reason}")
    if advice.compile_s is not None:
        lines.append(f"numba compiled it in {report.format_seconds(advice.compile_s)}, not counted above")
    lines += _shipping_line(advice)
    for executor, seconds in advice.break_even_s.items():
        line = f"{executor} pay only for chunks of more than {report.format_seconds(seconds)} of work"
        lines.append(line + (f" (yours hold {report.format_seconds(work)})" if work is not None else ""))
    return lines


def _shipping_line(advice: Advice) -> list[str]:
    """What a chunk and its result weigh for a worker process; nothing if serial never ran them."""
    serial, shipped = advice.figures.row("serial", 1), advice.shipping
    if serial is None or serial.measurement.status != "OK":
        return []
    if shipped is None:
        return ["the chunks or their results cannot be pickled: worker processes cannot get them"]
    return [
        f"a process task ships {shipped.chunk_bytes:,} bytes and back {shipped.result_bytes:,} "
        f"({report.format_seconds(shipped.seconds)} to pickle and unpickle in one process)"
    ]


def _causes(advice: Advice) -> list[str]:
    """Each cause of a loss that the watched serial pass, the GIL probe or loky's round trip shows."""
    examined, found = advice.examined, list[str]()
    if examined is None:
        return found
    if advice.materialized:
        found.append(advice.materialized)
    if examined.results_none:
        found.append(
            "the kernel returned None for every chunk, so the agreement check compared nothing: "
            "return what it computes (numba may drop work whose result is never used)"
        )
    if advice.printed is not None:
        found.append(
            f"the kernel printed {advice.printed.lines:,} lines (the first: {advice.printed.first!r}), "
            "kept out of this report: its times include writing them, and a call that prints takes the GIL"
        )
    numba = advice.figures.row("numba", 1)
    if numba is not None and advice.environment["gil_enabled"]:
        found.append(diagnosis.numba_gil(numba.measurement.gil_held, examined.conversion) or "")
    found.append(diagnosis.already_parallel(examined, advice.environment["cores"]["usable"]) or "")
    found.append(diagnosis.imbalance(examined, advice.workers) or "")
    found.append(diagnosis.system_time(examined) or "")
    serial, compiled = advice.work_per_chunk_at("serial"), advice.work_per_chunk_at("numba")
    saved = None if serial is None or compiled is None else serial - compiled
    found.append(diagnosis.compile_repaid(advice.compile_s, saved, len(examined.chunk_s)) or "")
    processes = advice.figures.timed("joblib_processes", advice.workers)
    serial_row, trip = advice.figures.timed("serial", 1), advice.round_trip_s
    if processes and serial_row and processes.median and serial_row.median and trip is not None:
        balance = _timed_balance(advice, advice.workers)
        account = diagnosis.process_costs(
            processes.median, serial_row.median.value, advice.workers, trip, balance
        )[0]
        found.append(f"joblib_processes x{advice.workers}: {account}")
    return [line for line in found if line]


def _certainty(advice: Advice) -> str:
    """How sure the verdict is: the advised rung's interval against the next best's."""
    run = advice.run
    if run.sampling is None:
        return "how sure: nothing was timed (--check-only)"
    if advice.figures.timed("serial", 1) is None:
        return "how sure: serial could not be timed, so nothing could"
    if run.sampling.max_rounds < 2:
        return "how sure: a first look (--quick), one sample a rung, no interval: run without --quick"
    fastest = _best(advice)
    best = fastest if fastest is not None and _pays(fastest.speedup) else advice.figures.timed("serial", 1)
    rivals = [
        r
        for r in [advice.figures.timed("serial", 1), *_candidates(advice)]
        if r is not None and r is not best
    ]
    if best is None or best.median is None or not rivals:
        return "how sure: one rung was timed"
    rival = min(rivals, key=lambda r: r.median.value if r.median else math.inf)
    name = f"{best.measurement.variant} x{best.measurement.workers}"
    other = f"{rival.measurement.variant} x{rival.measurement.workers}"
    if best.median.high is None or rival.median is None or rival.median.low is None:
        return f"how sure: {name} against the next best, {other}, has no interval"
    if best.median.high < rival.median.low:
        return f"how sure: sure; {name} is faster than the next best, {other}, beyond both 95% intervals"
    fewer = (
        f"; of the two, {name} takes fewer workers"
        if best.measurement.workers < rival.measurement.workers and best.measurement.variant != "serial"
        else ""
    )
    return (
        f"how sure: not sure; the 95% intervals of {name} and the next best, {other}, overlap, so either "
        f"may be the faster{fewer}: --rigorous narrows them"
    )


def _memory_lines(advice: Advice) -> list[str]:
    """The rate serial and the fastest row move memory at, against the machine's copy bandwidth."""
    serial, best = advice.figures.row("serial", 1), _best(advice)
    lines = []
    for row in [r for r in (serial, best) if r is not None]:
        rated = _rate(advice, row)
        if rated:
            share = rated[0] / rated[1]
            bound = ": memory-bound" if row.bound == "memory" else ""
            m = row.measurement
            lines.append(
                f"{m.variant} x{m.workers} moves at least {_gbps(rated[0])} (its chunks and results once; "
                f"the temporaries it makes are not counted), {share:.0%} of the machine's copy "
                f"bandwidth ({_gbps(rated[1])}){bound}"
            )
    return lines
