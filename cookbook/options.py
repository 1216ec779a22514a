"""What a run was asked to do: one frozen object, passed whole from the command line to the runner.

``RunOptions`` travels unchanged through ``run``, ``isolate``, ``runner``
and ``measure`` (as pyperf passes its ``args``), and is written to the JSON
as it was used. ``Sampling`` holds how each step is sampled; the modes
(``--quick``, the default, ``--rigorous``) are presets of it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["ADVISE_MODES", "MODES", "Mode", "RunOptions", "Sampling"]

Mode = Literal["quick", "default", "rigorous"]


@dataclass(frozen=True)
class Sampling:
    """How every step of a recipe is warmed up and sampled.

    A step is warmed until its call times stop falling (at most
    ``max_warmup`` calls), then sampled once per round, all steps of a recipe
    in each round, in a new order every round. A sample times as many calls
    as it takes to last ``floor_s``. A step leaves the rounds after
    ``min_rounds`` once the 95% interval of its median is within
    ``precision`` of it, or once its samples have taken ``budget_s``; no
    step takes more than ``max_rounds`` samples. With ``ranked``, a step
    also leaves once its interval and the fastest step's no longer overlap
    (and the fastest, once no other step's overlaps its own): for a verdict,
    the order of the steps is all that is asked.
    """

    mode: Mode
    min_rounds: int
    max_rounds: int
    precision: float  # relative half-width of the median's 95% interval that ends a step
    budget_s: float  # sampling time per step after which it ends, precise or not
    floor_s: float  # a sample lasts at least this long: short calls are looped
    max_warmup: int  # warm-up calls at most, after the first call (0: the first call was warm)
    ranked: bool = False  # a step also ends once its place against the fastest step is settled

    def replace(self, **changes: Any) -> Sampling:
        """A copy with the command line's overrides; ``max_rounds`` grows to ``min_rounds`` if needed."""
        changed = dataclasses.replace(self, **changes)
        return dataclasses.replace(changed, max_rounds=max(changed.max_rounds, changed.min_rounds))


MODES: dict[Mode, Sampling] = {
    # One sample per step, no interval: for smoke tests.
    "quick": Sampling("quick", 1, 1, precision=1.0, budget_s=0.0, floor_s=0.0, max_warmup=1),
    # Six rounds give the smallest sample with a 95% order-statistics interval of the median.
    "default": Sampling("default", 6, 10, precision=0.05, budget_s=1.0, floor_s=0.025, max_warmup=6),
    "rigorous": Sampling("rigorous", 10, 40, precision=0.02, budget_s=15.0, floor_s=0.1, max_warmup=12),
}


# advise times its rungs on a few chunks, so its samples are short and many: its default samples the
# rungs that decide its verdict for longer, until their intervals separate, and stops the others once
# they are slower beyond doubt.
ADVISE_MODES: dict[Mode, Sampling] = {
    **MODES,
    "default": MODES["default"].replace(max_rounds=16, budget_s=2.0, ranked=True),
}


@dataclass(frozen=True)
class RunOptions:
    """Everything a run of recipes needs besides the recipes themselves."""

    size: str | int | None = None  # None: the recipe's default (medium, else large; small with check_only)
    workers: tuple[int, ...] = (1,)
    variants: tuple[str, ...] | None = None  # None: all of them
    backends: tuple[str, ...] = ("loky",)
    scheduler: str | None = None  # a running dask scheduler's address, for the dask backend
    check_only: bool = False  # one call per variant, checked, not timed
    sampling: Sampling = MODES["default"]
    timeout_s: float = 300.0  # per step's first call and warm-up, and per sample

    def as_dict(self) -> dict[str, Any]:
        """The options as JSON writes them."""
        return dataclasses.asdict(self)
