"""Progress on stderr while steps run: a bar on a terminal, one line a step and one a round elsewhere."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cookbook.measure import OnStep

__all__ = ["steps_progress"]


@contextlib.contextmanager
def steps_progress(total: int) -> Iterator[OnStep]:
    """An ``on_step`` callback that shows how many of ``total`` steps have started, and what runs now."""
    stderr = Console(stderr=True)
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=stderr,
        transient=True,
        disable=not stderr.is_terminal,
    )
    done = 0
    printed: set[tuple[str, str]] = set()
    with progress:
        task = progress.add_task("starting", total=total)

        def on_step(recipe: str, variant: str, count: int, phase: str) -> None:
            nonlocal done
            sampling = phase.startswith("round")
            done = min(total, done + (not sampling))  # steps started (a restarted runner starts some again)
            text = f"{recipe}: {variant} x{count}: {phase}"
            progress.update(task, completed=done, description=text)
            # Without a terminal, one line a step and one a round, not one a sample.
            first_of_round = sampling and (recipe, phase) not in printed
            if progress.disable and (not sampling or first_of_round):
                printed.add((recipe, phase))
                line = f"{recipe}: sampling, {phase}" if first_of_round else text
                print(f"[{done}/{total}] {line}", file=sys.stderr, flush=True)

        yield on_step
