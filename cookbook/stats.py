"""Distribution-free statistics for timing samples, after asv's ``_stats`` and ``pyperf check``.

Timings are skewed and often bimodal, so nothing here assumes a normal
distribution: a median's confidence interval comes from order statistics
and binomial quantiles, two runs differ by a rank test (Mann-Whitney U),
and drift is a rank correlation (Spearman). The checks give reasons in
words, with the figure behind each.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import numpy as np

__all__ = [
    "CONFIDENCE",
    "FEWEST_FOR_INTERVAL",
    "SHORT_SAMPLE",
    "Interval",
    "differs",
    "drift",
    "median_interval",
    "paired_ratios",
    "ratio_interval",
    "spearman",
    "two_modes",
]

CONFIDENCE = 0.95
FEWEST_FOR_INTERVAL = 6  # the fewest values whose median has a 95% order-statistics interval
SHORT_SAMPLE = 0.5  # a sample under this share of the floor is calibrated again (calls got faster)
MODE_GAP = 0.10  # a gap wider than this fraction of the median splits two modes
MODE_SEPARATION = 2.0  # and this many times the spread within the wider of the two groups
DRIFT_RHO, DRIFT_ALPHA = 0.7, 0.01


@dataclass(frozen=True)
class Interval:
    """A median (or a median ratio) and its confidence interval; low/high are None with too few values."""

    value: float
    low: float | None
    high: float | None

    @property
    def relative_half_width(self) -> float | None:
        """max(value - low, high - value) / value, or None without an interval (or with a zero value)."""
        if self.low is None or self.high is None or self.value == 0:
            return None
        return max(self.value - self.low, self.high - self.value) / abs(self.value)

    def scaled(self, factor: float) -> Interval:
        """Every field times ``factor`` (a positive number, so low stays below high)."""
        low = None if self.low is None else self.low * factor
        high = None if self.high is None else self.high * factor
        return Interval(self.value * factor, low, high)


@lru_cache(maxsize=256)
def _rank(n: int, confidence: float) -> int | None:
    """The largest r with P(X_(r) <= median <= X_(n+1-r)) >= confidence, or None if even r = 1 falls short."""
    # That probability is P(r <= K <= n - r) for K ~ Binomial(n, 1/2), that is 1 - 2 P(K <= r - 1),
    # summed exactly in integers: scipy.stats would be most of a runner's import time.
    total, below, rank = 2**n, 0, None
    for r in range(1, n // 2 + 1):
        below += math.comb(n, r - 1)  # 2**n P(K <= r - 1)
        if Fraction(total - 2 * below, total) < confidence:
            break
        rank = r
    return rank


def median_interval(values: Sequence[float], confidence: float = CONFIDENCE) -> Interval:
    """The median and its distribution-free interval [X_(r), X_(n+1-r)]; no interval for too few values."""
    if len(values) == 0:
        raise ValueError("median_interval of no values")
    ordered = np.sort(np.asarray(values, dtype=float))
    median = float(np.median(ordered))
    r = _rank(len(ordered), confidence)
    if r is None:
        return Interval(median, None, None)
    return Interval(median, float(ordered[r - 1]), float(ordered[len(ordered) - r]))


def paired_ratios(numerator: Mapping[int, float], denominator: Mapping[int, float]) -> list[float]:
    """numerator[r] / denominator[r] for the rounds r sampled in both, in round order."""
    return [numerator[r] / denominator[r] for r in sorted(numerator.keys() & denominator.keys())]


def ratio_interval(
    numerator: Mapping[int, float], denominator: Mapping[int, float], scale: float = 1.0
) -> Interval | None:
    """The median paired ratio and its interval, times ``scale``; None when no round is in both.

    Pairing by round cancels drift that slows both steps of a round alike.
    """
    ratios = paired_ratios(numerator, denominator)
    if not ratios:
        return None
    return median_interval(ratios).scaled(scale)


def differs(
    old: Sequence[float], new: Sequence[float], *, factor: float = 1.1, alpha: float = 0.01
) -> tuple[str, float | None]:
    """("slower" | "faster" | "", p): a change needs Mann-Whitney p < alpha and a median ratio beyond factor.

    As in asv compare: significance alone flags 1% moves on quiet machines,
    a ratio alone flags noise on busy ones.
    """
    if len(old) < 2 or len(new) < 2:
        return "", None
    from scipy import stats as scipy_stats

    p = float(scipy_stats.mannwhitneyu(old, new, alternative="two-sided", method="auto").pvalue)
    if math.isnan(p):
        p = 1.0
    before, after = statistics.median(old), statistics.median(new)
    ratio = after / before if before else (math.inf if after else 1.0)
    if p >= alpha:
        return "", p
    return ("slower" if ratio >= factor else "faster" if ratio <= 1 / factor else ""), p


def _format_seconds(seconds: float) -> str:
    """Three significant figures in µs, ms or s, trailing zeros kept ("12.0 ms")."""
    rounded = float(f"{seconds:.3g}")  # so 999.97 µs reads 1.00 ms
    scale, unit = next(((s, u) for s, u in ((1.0, "s"), (1e-3, "ms")) if abs(rounded) >= s), (1e-6, "µs"))
    value = rounded / scale
    digits = max(0, 2 - math.floor(math.log10(abs(value)))) if value else 2
    return f"{value:.{digits}f} {unit}"


def two_modes(values: Sequence[float]) -> str | None:
    """A reason when the values split at one wide gap into two well-filled groups; None otherwise.

    Explainable rather than clever: the largest gap between sorted neighbours,
    wider than 10% of the median and twice the spread (highest minus lowest)
    of the wider group, with at least 2 values and 20% on each side. Without
    the second rule, a handful of samples of one noisy mode often split "in
    two" at their widest gap; with it, they seldom do, while two tight modes
    are still found (``tests/test_stats.py`` draws both).
    """
    n = len(values)
    if n < 5:
        return None
    ordered = sorted(values)
    gaps = np.diff(ordered)
    cut = int(np.argmax(gaps)) + 1
    low, high = ordered[:cut], ordered[cut:]
    if gaps[cut - 1] <= MODE_GAP * statistics.median(ordered):
        return None
    if min(len(low), len(high)) < max(2, 0.2 * n):
        return None
    if gaps[cut - 1] <= MODE_SEPARATION * max(low[-1] - low[0], high[-1] - high[0]):
        return None
    big, small = (high, low) if len(high) > len(low) else (low, high)
    return (
        f"two modes: {len(big)} samples near {_format_seconds(statistics.median(big))}, "
        f"{len(small)} near {_format_seconds(statistics.median(small))}"
    )


def spearman(values: Sequence[float]) -> tuple[float, float]:
    """Spearman's rho of ``values`` against their order, and its two-sided p-value, as scipy's spearmanr.

    Written out here because importing scipy.stats takes seconds, longer
    than a quick ``advise`` should spend on it. The p-value is the
    t-distribution's, with n - 2 degrees of freedom.
    """
    n = len(values)
    rho = float(np.corrcoef(np.arange(n), _average_ranks(values))[0, 1])
    df = n - 2
    if abs(rho) >= 1.0:
        return rho, 0.0
    t_squared = rho * rho * df / ((1 - rho) * (1 + rho))
    return rho, _incomplete_beta(df / 2, 0.5, df / (df + t_squared))  # P(|T| >= |t|)


def _average_ranks(values: Sequence[float]) -> np.ndarray:
    """Ranks from 1, ties given their average rank (scipy's rankdata, method "average")."""
    array = np.asarray(values, dtype=float)
    order = np.argsort(array, kind="mergesort")
    ranks = np.empty(len(array))
    ordered = array[order]
    start = 0
    for end in range(1, len(array) + 1):
        if end == len(array) or ordered[end] != ordered[start]:
            ranks[order[start:end]] = (start + end + 1) / 2  # the mean of ranks start+1 .. end
            start = end
    return ranks


def _incomplete_beta(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b), by its continued fraction (Lentz's method)."""
    if x <= 0.0 or x >= 1.0:
        return 0.0 if x <= 0.0 else 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    if x > (a + 1) / (a + b + 2):  # the fraction converges fast only below this: use the symmetry
        return 1.0 - _incomplete_beta(b, a, 1.0 - x)
    tiny, c, d = 1e-300, 1.0, 1.0 - (a + b) * x / (a + 1)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    fraction = d
    for m in range(1, 300):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            fraction *= c * d
        if abs(c * d - 1.0) < 1e-15:
            break
    return math.exp(log_front) * fraction / a


def drift(values_in_round_order: Sequence[float]) -> str | None:
    """A reason when times rise or fall steadily over the rounds (Spearman |rho| >= 0.7, p < 0.01)."""
    values = list(values_in_round_order)
    n = len(values)
    if n < 6 or min(values) == max(values):
        return None
    rho, p = spearman(values)
    if not (abs(rho) >= DRIFT_RHO and p < DRIFT_ALPHA):
        return None
    third = n // 3
    change = statistics.median(values[-third:]) / statistics.median(values[:third]) - 1
    word = "rose" if change >= 0 else "fell"
    return f"times {word} {abs(change):.0%} over {n} rounds (Spearman {rho:.2f})"
