"""Amdahl's-law fit and the memory/compute classification."""

import pytest

from cookbook.scaling import bound, serial_fraction


@pytest.mark.parametrize("s", [0.0, 0.1, 0.5, 1.0])
def test_serial_fraction_recovers_an_exact_amdahl_curve(s):
    times = {n: 10.0 * (s + (1 - s) / n) for n in (1, 2, 4, 8)}
    assert serial_fraction(times) == pytest.approx(s, abs=1e-12)


def test_serial_fraction_needs_one_worker_and_another_count():
    assert serial_fraction({2: 1.0, 4: 0.5}) is None
    assert serial_fraction({1: 1.0}) is None


def test_serial_fraction_is_clamped():
    assert serial_fraction({1: 1.0, 2: 1.5}) == 1.0  # slower with more workers
    assert serial_fraction({1: 1.0, 2: 0.4}) == 0.0  # superlinear


def test_bound_compares_with_half_the_bandwidth():
    assert bound(30e9, 40e9) == "memory"
    assert bound(10e9, 40e9) == "compute"
