"""cookbook.stats on synthetic samples: intervals cover at their stated rate; a change needs size and p."""

import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from cookbook.stats import (
    CONFIDENCE,
    FEWEST_FOR_INTERVAL,
    Interval,
    differs,
    drift,
    median_interval,
    paired_ratios,
    ratio_interval,
    spearman,
    two_modes,
)

SETS = 4000
TRUE_MEDIAN = 0.1
# 60% near 100 ms, 40% far slower (above 200 ms): the median lies inside the first component.
MIXTURE_MEDIAN = TRUE_MEDIAN * math.exp(0.05 * scipy_stats.norm.ppf(0.5 / 0.6))


def _lognormal(rng, n):
    return rng.lognormal(math.log(TRUE_MEDIAN), 0.3, n)


def _mixture(rng, n):
    fast = rng.lognormal(math.log(TRUE_MEDIAN), 0.05, n)
    slow = 0.2 + rng.exponential(0.1, n)
    return np.where(rng.random(n) < 0.6, fast, slow)


def _covers(interval, truth):
    return interval.low <= truth <= interval.high


@pytest.mark.parametrize(("draw", "truth"), [(_lognormal, TRUE_MEDIAN), (_mixture, MIXTURE_MEDIAN)])
@pytest.mark.parametrize("n", [6, 10, 20])
def test_median_interval_covers_the_true_median_at_its_stated_rate(draw, truth, n):
    rng = np.random.default_rng(n)
    coverage = np.mean([_covers(median_interval(draw(rng, n)), truth) for _ in range(SETS)])
    assert CONFIDENCE <= coverage <= 0.995


def test_median_interval_ranks_are_the_tightest_symmetric_ones():
    interval = median_interval(list(range(1, 21)))  # n = 20: ranks 6 and 15 cover 95.9%, 7 and 14 only 88.5%
    assert (interval.value, interval.low, interval.high) == (10.5, 6.0, 15.0)
    assert median_interval([3.0, 1, 2, 6, 5, 4]) == Interval(3.5, 1.0, 6.0)  # n = 6: [min, max], 96.9%
    assert interval.relative_half_width == pytest.approx(4.5 / 10.5)


@pytest.mark.parametrize("confidence", [0.8, 0.9, CONFIDENCE, 0.99])
def test_median_interval_ranks_match_scipys_binomial_quantiles(confidence):
    for n in range(1, 300):
        below = scipy_stats.binom.cdf(range(n // 2), n, 0.5)
        covered = [r for r in range(1, n // 2 + 1) if 1 - 2 * below[r - 1] >= confidence]
        interval = median_interval(list(range(n)), confidence)
        if covered:
            assert (interval.low, interval.high) == (covered[-1] - 1, n - covered[-1])
        else:
            assert interval.low is None


def test_spearman_matches_scipys_rho_and_p_value_with_ties_and_without():
    rng = np.random.default_rng(7)
    for n in (6, 7, 10, 16, 40):
        for trend in (0.0, 0.05, 0.3, -1.0):
            values = rng.normal(size=n) + trend * np.arange(n)
            for shown in (values, np.round(values, 0)):  # rounded: tied values
                expected = scipy_stats.spearmanr(range(n), shown)
                rho, p = spearman(list(shown))
                assert rho == pytest.approx(expected.statistic, abs=1e-12)
                assert p == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-15)


def test_too_few_values_give_no_interval_and_none_raise():
    assert median_interval([1.0] * FEWEST_FOR_INTERVAL).low is not None
    for n in range(1, FEWEST_FOR_INTERVAL):  # [min, max] of 5 covers only 93.75%
        interval = median_interval([float(v) for v in range(n)])
        assert interval.low is None and interval.high is None and interval.relative_half_width is None
    assert median_interval([2.0, 1.0, 4.0]).value == 2.0
    assert median_interval(range(5), confidence=0.9).low == 0.0  # 93.75% is enough for 90%
    with pytest.raises(ValueError):
        median_interval([])


def _drifting_rounds(rng, n, rounds):
    """Per-round drift shared by both steps of a round: a steady rise to 2x plus round-to-round load."""
    shared = np.linspace(1.0, 2.0, rounds) * rng.lognormal(0.0, 0.2, rounds)
    serial = 0.3 * shared * rng.lognormal(0.0, 0.03, rounds)
    variant = 0.1 * shared * rng.lognormal(0.0, 0.03, rounds)
    return serial, variant


def _unpaired(numerator, denominator):
    """The ratio of the two medians, with the interval their own intervals allow."""
    a, b = median_interval(numerator), median_interval(denominator)
    return Interval(a.value / b.value, a.low / b.high, a.high / b.low)


@pytest.mark.parametrize("n", [6, 10, 20])
def test_ratio_interval_covers_the_true_ratio_under_a_large_shared_drift(n):
    rng = np.random.default_rng(100 + n)
    hits = 0
    for _ in range(SETS):
        serial, variant = _drifting_rounds(rng, n, n)
        hits += _covers(ratio_interval(dict(enumerate(serial)), dict(enumerate(variant))), 3.0)
    assert CONFIDENCE <= hits / SETS <= 0.995


def test_pairing_by_round_cancels_the_drift_that_unpaired_medians_carry():
    rng = np.random.default_rng(7)
    paired, unpaired = [], []
    for _ in range(500):
        serial, variant = _drifting_rounds(rng, 10, 10)
        paired.append(ratio_interval(dict(enumerate(serial)), dict(enumerate(variant))).relative_half_width)
        unpaired.append(_unpaired(serial, variant).relative_half_width)
    assert np.median(unpaired) > 5 * np.median(paired)


def test_unpaired_medians_are_biased_when_the_steps_see_different_stretches_of_drift():
    # Ten samples each on a machine drifting over 20 rounds. Timed one after the other (serial in rounds
    # 0-9, the variant in 10-19), the ratio of the medians is off and its interval misses; interleaved
    # (both in rounds 0-9, 10-19 left idle), the paired ratios are not.
    rng = np.random.default_rng(8)
    unpaired, interleaved = [], []
    for _ in range(1000):
        serial, variant = _drifting_rounds(rng, 10, 20)
        unpaired.append(_unpaired(serial[:10], variant[10:]))
        interleaved.append(ratio_interval(dict(enumerate(serial[:10])), dict(enumerate(variant[:10]))))
    assert np.median([i.value for i in unpaired]) < 2.5 < np.median([i.value for i in interleaved])
    assert np.mean([_covers(i, 3.0) for i in unpaired]) < 0.85
    assert np.mean([_covers(i, 3.0) for i in interleaved]) >= CONFIDENCE


def test_paired_ratios_use_the_rounds_in_both_in_round_order():
    assert paired_ratios({3: 6.0, 1: 2.0, 2: 9.0}, {1: 1.0, 3: 2.0, 4: 5.0}) == [2.0, 3.0]
    assert ratio_interval({1: 2.0}, {2: 1.0}) is None
    assert ratio_interval({1: 2.0}, {1: 1.0}) == Interval(2.0, None, None)
    rounds = dict(enumerate([8.0] * 6))
    assert ratio_interval(rounds, dict(enumerate([2.0] * 6)), scale=0.5) == Interval(2.0, 2.0, 2.0)


def _set(rng, n, scale=1.0, sigma=0.2):
    return list(scale * rng.lognormal(math.log(0.1), sigma, n))


def test_differs_rarely_flags_two_sets_from_one_distribution():
    rng = np.random.default_rng(11)
    flagged = sum(bool(differs(_set(rng, 8), _set(rng, 8))[0]) for _ in range(1000))
    assert flagged < 20  # well under 2% of A/A pairs


def test_differs_flags_a_large_significant_change_either_way():
    rng = np.random.default_rng(12)
    old, new = _set(rng, 8, sigma=0.02), _set(rng, 8, scale=1.5, sigma=0.02)
    verdict, p = differs(old, new)
    assert verdict == "slower" and p is not None and p < 0.01
    assert differs(new, old)[0] == "faster"
    separated = differs([1.0, 1.1, 1.2, 1.3, 1.4, 1.5], [3.0, 3.1, 3.2, 3.3, 3.4, 3.5])
    assert separated[0] == "slower" and separated[1] == pytest.approx(0.0022, abs=1e-4)


def test_differs_does_not_call_a_small_change_a_change():
    rng = np.random.default_rng(13)
    old, new = _set(rng, 8, sigma=0.005), _set(rng, 8, scale=1.05, sigma=0.005)
    verdict, p = differs(old, new)
    assert verdict == "" and p is not None and p < 0.01  # significant, but under the 1.1 factor
    assert differs(old, new, factor=1.02)[0] == "slower"
    assert differs([1.0], [2.0, 3.0]) == ("", None)  # cannot tell
    assert differs([1.0] * 6, [1.0] * 6) == ("", 1.0)


def test_two_modes_finds_a_wide_gap_with_both_sides_filled():
    bimodal = [0.143, 0.144, 0.145, 0.144, 0.099, 0.0997, 0.1]
    assert two_modes(bimodal) == "two modes: 4 samples near 144 ms, 3 near 99.7 ms"
    assert two_modes([0.100, 0.101, 0.102, 0.103, 0.104, 0.105]) is None  # no wide gap
    assert two_modes([0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.2]) is None  # one outlier, not a mode
    assert two_modes([0.1, 0.1, 0.2, 0.2]) is None  # too few to tell


def test_two_modes_seldom_splits_one_noisy_mode_and_finds_two_tight_ones():
    rng = np.random.default_rng(4)
    one_mode = [two_modes(list(rng.lognormal(0.0, 0.12, 6))) for _ in range(SETS)]
    assert np.mean([reason is not None for reason in one_mode]) < 0.05
    two = [
        np.concatenate([rng.lognormal(0.0, 0.02, 3), 1.3 * rng.lognormal(0.0, 0.02, 3)]) for _ in range(SETS)
    ]
    assert np.mean([two_modes(list(values)) is not None for values in two]) > 0.95
    wide = [0.100, 0.118, 0.110, 0.140, 0.158, 0.150]  # a gap of 22 ms beside groups 18 ms wide
    assert two_modes(wide) is None
    apart = [0.100, 0.106, 0.103, 0.128, 0.134, 0.131]  # the same gap beside groups 6 ms wide
    assert two_modes(apart) is not None


def test_drift_reports_a_steady_rise_or_fall():
    rising = [0.100, 0.102, 0.101, 0.105, 0.108, 0.110, 0.112, 0.115, 0.117, 0.118]
    reason = drift(rising)
    assert reason is not None and reason.startswith("times rose 16% over 10 rounds (Spearman 0.99")
    assert drift(rising[::-1]).startswith("times fell 14% over 10 rounds (Spearman -0.99")
    assert drift([0.100, 0.104, 0.099, 0.103, 0.101, 0.102, 0.100, 0.104]) is None  # no trend
    assert drift([0.1] * 8) is None
    assert drift(rising[:5]) is None  # too few rounds
