"""What ``cookbook.run`` and ``cookbook.advise`` share: their parser, options, and the session they start.

Both commands report a mistake on the command line in one line and exit 2
(:class:`UsageError`), take the same worker counts and sampling options, and
stamp their results (:func:`new_session`, :func:`finish`) the same way.
"""

from __future__ import annotations

import argparse
import math
import shlex
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import Any, NoReturn

from cookbook import backends, environment
from cookbook.isolate import DEFAULT_TIMEOUT_S
from cookbook.options import ADVISE_MODES, MODES, Mode, RunOptions, Sampling
from cookbook.results import Session

__all__ = [
    "Parser",
    "UsageError",
    "add_advise_arguments",
    "add_agreement_arguments",
    "add_measuring_arguments",
    "advise_options",
    "advise_workers",
    "command_line",
    "default_workers",
    "finish",
    "fraction",
    "new_session",
    "positive_int",
    "sampling",
    "seconds",
    "sweep",
    "tolerance",
    "worker_counts",
]


class UsageError(Exception):
    """A mistake on the command line: reported in one line, exit status 2."""


class Parser(argparse.ArgumentParser):
    """argparse, with its errors raised as :class:`UsageError` rather than printed with the usage."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def command_line(prog: str, argv: Sequence[str]) -> str:
    """The command as a user would type it again: ``python -m cookbook.run all --quick``."""
    return shlex.join([*prog.split(), *argv])


def default_workers() -> tuple[int, ...]:
    """1 and the usable cores: the worker counts when ``--workers`` is not given."""
    return tuple(sorted({1, environment.usable_cores()}))


def new_session(options: RunOptions, asked: dict[str, Any], command: str | None = None) -> Session:
    """An empty session: the environment (with the copy bandwidth, unless only checking), command, date.

    The copy bandwidth is measured here, before anything else, to tell
    memory-bound rows from compute-bound ones.
    """
    bandwidth = None if options.check_only else environment.memory_bandwidth()
    env = {**environment.collect(), "memory_bandwidth_bytes_per_s": bandwidth}
    env |= {"command": command, "date_utc": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    return Session(environment=env, options=options.as_dict() | asked)


def finish(session: Session, started: float) -> None:
    """Record the wall time since ``started`` (``time.monotonic()``): from the bandwidth probe to the end."""
    session.environment["wall_s"] = round(time.monotonic() - started, 1)


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be 1 or more")
    return value


def _number(text: str, kind: str, accept: Callable[[float], bool], rule: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not {kind}") from None
    if not accept(value):
        raise argparse.ArgumentTypeError(f"{text} {rule}")
    return value


def seconds(text: str) -> float:
    return _number(text, "a number of seconds", lambda v: 0 < v < math.inf, "must be more than 0 seconds")


def fraction(text: str) -> float:
    return _number(text, "a number", lambda v: 0 < v < 1, "must be between 0 and 1, e.g. 0.05 for +-5%")


def tolerance(text: str) -> float:
    return _number(text, "a number", lambda v: 0 <= v < math.inf, "must be 0 or more")


def worker_counts(text: str) -> list[int]:
    """``--workers``: counts separated by commas, or ``sweep``."""
    if text == "sweep":
        return sweep(environment.usable_cores())
    return sorted({positive_int(part.strip()) for part in text.split(",")})


def sweep(cores: int) -> list[int]:
    """1, 2, 4, ... up to ``cores``, and ``cores`` itself."""
    counts = {cores}
    n = 1
    while n < cores:
        counts.add(n)
        n *= 2
    return sorted(counts)


def add_timeout(parser: argparse.ArgumentParser, what: str) -> None:
    """``--timeout``; ``what`` runs in a process of its own."""
    parser.add_argument(
        "--timeout",
        type=seconds,
        default=DEFAULT_TIMEOUT_S,
        metavar="SECONDS",
        help="stop a variant whose first call and warm-up, or one of whose samples, runs longer than this, "
        f"report it as TIMEOUT, and go on; {what} runs in a process of its own, "
        f"so its threads and worker processes are killed with it (default {DEFAULT_TIMEOUT_S:g})",
    )


def add_measuring_arguments(
    parser: argparse.ArgumentParser, *, rigorous: str, modes: dict[Mode, Sampling] = MODES
) -> None:
    """``--workers``, the modes and the sampling overrides; ``rigorous`` says what ``--rigorous`` does."""
    default, rigor = modes["default"], modes["rigorous"]
    parser.add_argument(
        "--workers",
        type=worker_counts,
        metavar="N[,N...]|sweep",
        help="worker counts to run the parallel variants at, e.g. 1,2,4, or 'sweep' for 1, 2, 4, ... "
        f"up to the usable cores (default: 1 and the usable cores, here {environment.usable_cores()})",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--quick",
        dest="mode",
        action="store_const",
        const="quick",
        help="one sample per step and no intervals: a smoke test",
    )
    mode.add_argument("--rigorous", dest="mode", action="store_const", const="rigorous", help=rigorous)
    parser.add_argument(
        "--repeat",
        type=positive_int,
        metavar="N",
        help=f"rounds every step is sampled at least (default {default.min_rounds}; --quick "
        f"{modes['quick'].min_rounds}; --rigorous {rigor.min_rounds}), and at most "
        f"{default.max_rounds} (--rigorous {rigor.max_rounds})"
        + (
            "; by default a step also stops once its interval and the fastest step's no longer overlap"
            if default.ranked
            else ""
        ),
    )
    parser.add_argument(
        "--precision",
        type=fraction,
        metavar="P",
        help="a step stops once the 95%% interval of its median is within P of it, "
        f"e.g. 0.05 for +-5%% (default {default.precision:g}; --rigorous {rigor.precision:g})",
    )
    parser.add_argument(
        "--budget",
        type=seconds,
        metavar="SECONDS",
        help="a step stops once its samples have taken this long, precise or not, and says so "
        f"(default {default.budget_s:g}; --rigorous {rigor.budget_s:g})",
    )
    parser.add_argument(
        "--sample-time",
        type=seconds,
        metavar="SECONDS",
        help=f"a sample loops calls until it lasts this long (default {default.floor_s:g}; "
        f"--rigorous {rigor.floor_s:g})",
    )


def sampling(args: argparse.Namespace, modes: dict[Mode, Sampling] = MODES) -> Sampling:
    """The mode's sampling with the command line's overrides."""
    mode: Mode = args.mode or "default"
    overrides = {"min_rounds": args.repeat, "precision": args.precision, "budget_s": args.budget}
    overrides["floor_s"] = args.sample_time
    return modes[mode].replace(**{k: v for k, v in overrides.items() if v is not None})


def advise_workers() -> tuple[int, ...]:
    """The usable cores: advise's parallel rungs at the most workers (its one-thread rungs run anyway)."""
    return (max(default_workers()),)


def add_advise_arguments(parser: argparse.ArgumentParser) -> None:
    """What ``cookbook.advise`` and ``%advise`` measure with: as ``run``, and the agreement's tolerances."""
    rigorous = "more rounds, narrower intervals, longer samples, all chunks timed"
    add_measuring_arguments(parser, rigorous=rigorous, modes=ADVISE_MODES)
    add_timeout(parser, "the kernel")
    add_agreement_arguments(parser)
    backends.add_arguments(parser)


def add_agreement_arguments(parser: argparse.ArgumentParser) -> None:
    """``--check-only``, ``--rtol`` and ``--atol``, as ``cookbook.advise`` and ``%advise`` take them."""
    parser.add_argument(
        "--check-only",
        action="store_true",
        help="check that every variant agrees with serial, one call each, and time nothing",
    )
    parser.add_argument(
        "--rtol", type=tolerance, default=0.0, help="relative tolerance for float results (default 0)"
    )
    parser.add_argument(
        "--atol", type=tolerance, default=0.0, help="absolute tolerance for float results (default 0)"
    )


def advise_options(args: argparse.Namespace) -> RunOptions:
    """An advise run's options: the measuring, ``--timeout``, ``--check-only`` and backends' arguments."""
    return RunOptions(
        workers=tuple(args.workers or advise_workers()),
        sampling=sampling(args, ADVISE_MODES),
        check_only=args.check_only,
        backends=tuple(args.backend),
        scheduler=args.scheduler,
        timeout_s=args.timeout,
    )
