"""The timing method as the tables apply it, on synthetic samples whose true figures are known.

``tests/test_stats.py`` shows the statistics alone (intervals cover at
their stated rate; pairing by round cancels drift that unpaired medians
carry). Here the same properties are shown through what every table,
file and page reads, ``cookbook.figures.derive`` and ``compare``, so that a
change to how a row's figures are derived (say, speedup no longer pairing
samples of the same round) fails a test, not only the committed-docs check:

- a row's speedup and efficiency pair samples of the same round, so drift
  that slows a whole round cancels, also when steps stopped at other rounds;
- their intervals cover the true value at their stated rate;
- ``compare`` calls neither a 3% move nor noise a change, and does call a
  real one.
"""

from pathlib import Path

import numpy as np
import pytest

from cookbook import figures
from cookbook.compare import compare_runs
from cookbook.options import MODES
from cookbook.results import Measurement, RecipeRun, Sample, Session
from cookbook.stats import CONFIDENCE

ROUNDS = 10


def _measurement(variant, workers, seconds_by_round):
    samples = [Sample(round=r, per_call_s=s, calls=1) for r, s in seconds_by_round.items()]
    executor = "one thread" if variant == "serial" else "threads"
    return Measurement(variant, workers, "OK", samples=samples, executor=executor, function=variant)


def _run(*measurements):
    return RecipeRun(
        "demo", Path("demo.py"), 1, "medium", {}, sampling=MODES["default"], measurements=list(measurements)
    )


def test_speedup_and_efficiency_pair_samples_of_the_same_round():
    noise = np.random.default_rng(1).uniform(0.7, 1.3, ROUNDS)  # each round's machine speed, +-30%
    serial = {r: 1.0 * noise[r] for r in range(ROUNDS)}
    one = {r: 0.4 * noise[r] for r in range(8)}
    two = {r: 0.25 * noise[r] for r in range(2, 10)}  # other rounds: pairing by index would miss
    run = _run(
        _measurement("serial", 1, serial),
        _measurement("numba_threads", 1, one),
        _measurement("numba_threads", 2, two),
    )
    row = figures.derive(run, None).row("numba_threads", 2)
    assert row.speedup.value == pytest.approx(4.0)
    assert row.speedup.low == pytest.approx(4.0) and row.speedup.high == pytest.approx(4.0)
    assert row.efficiency.value == pytest.approx(0.8)
    assert row.efficiency.low == pytest.approx(0.8) and row.efficiency.high == pytest.approx(0.8)


def test_a_rows_speedup_interval_covers_the_true_speedup_at_its_stated_rate():
    rng = np.random.default_rng(7)
    trials, covered = 2000, 0
    for _ in range(trials):
        rounds = rng.uniform(0.8, 1.2, ROUNDS)  # each round's machine speed, shared by both steps
        serial = {r: 1.0 * rounds[r] * rng.lognormal(0, 0.05) for r in range(ROUNDS)}
        variant = {r: 0.5 * rounds[r] * rng.lognormal(0, 0.05) for r in range(ROUNDS)}
        run = _run(_measurement("serial", 1, serial), _measurement("numba", 1, variant))
        speedup = figures.derive(run, None).row("numba", 1).speedup
        covered += speedup.low <= 2.0 <= speedup.high
    assert CONFIDENCE <= covered / trials <= 0.995


def _session(factor, seed, spread):
    rng = np.random.default_rng(seed)
    rows = [
        _measurement(variant, 1, {r: true * factor * rng.lognormal(0, spread) for r in range(ROUNDS)})
        for variant, true in (("serial", 1.0), ("numpy", 0.1))
    ]
    return Session(environment={"python": "3.11.7"}, options={}, runs=[_run(*rows)])


@pytest.mark.parametrize("seed", range(5))
def test_compare_calls_neither_a_three_percent_move_nor_noise_a_change(seed):
    old = _session(1.0, seed, 0.01)
    assert not [c for c in compare_runs(old, _session(1.03, seed + 100, 0.01))[0] if c.verdict]
    noisy = _session(1.0, seed, 0.15)
    assert not [c for c in compare_runs(noisy, _session(1.0, seed + 100, 0.15))[0] if c.verdict]


def test_compare_calls_a_real_move_a_change():
    changes, _ = compare_runs(_session(1.0, 0, 0.01), _session(1.5, 1, 0.01))
    assert {c.verdict for c in changes} == {"slower"}
