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

from cookbook import environment
from cookbook.options import MODES, Mode, RunOptions, Sampling
from cookbook.results import Session

__all__ = [
    "Parser",
    "UsageError",
    "add_measuring_arguments",
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


def add_measuring_arguments(parser: argparse.ArgumentParser, *, rigorous: str) -> None:
    """``--workers``, the modes and the sampling overrides; ``rigorous`` says what ``--rigorous`` does."""
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
        help="rounds every step is sampled at least (default 6; --quick 1; --rigorous 10)",
    )
    parser.add_argument(
        "--precision",
        type=fraction,
        metavar="P",
        help="a step stops once the 95%% interval of its median is within P of it, "
        "e.g. 0.05 for +-5%% (default 0.05; --rigorous 0.02)",
    )
    parser.add_argument(
        "--budget",
        type=seconds,
        metavar="SECONDS",
        help="a step stops once its samples have taken this long, precise or not, and says so "
        "(default 1; --rigorous 15)",
    )
    parser.add_argument(
        "--sample-time",
        type=seconds,
        metavar="SECONDS",
        help="a sample loops calls until it lasts this long (default 0.025; --rigorous 0.1)",
    )


def sampling(args: argparse.Namespace) -> Sampling:
    """The mode's sampling with the command line's overrides."""
    mode: Mode = args.mode or "default"
    overrides = {"min_rounds": args.repeat, "precision": args.precision, "budget_s": args.budget}
    overrides["floor_s"] = args.sample_time
    return MODES[mode].replace(**{k: v for k, v in overrides.items() if v is not None})
