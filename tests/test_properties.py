"""Property-based tests (hypothesis) of the agreement check and of command-line parsing."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from cookbook.agreement import compare
from cookbook.run import UsageError, build_parser

integers = arrays(np.int64, st.integers(1, 50), elements=st.integers(-(2**40), 2**40))
floats = arrays(np.float64, st.integers(1, 50), elements=st.floats(-1e6, 1e6) | st.just(float("nan")))


@given(integers)
def test_an_array_agrees_with_itself(values):
    assert compare(values, values.copy()).ok


@given(floats)
def test_floats_with_nan_in_the_same_places_agree(values):
    assert compare(values, values.copy()).ok


@given(integers, st.data())
def test_any_integer_change_is_a_mismatch_of_its_size(values, data):
    index = data.draw(st.integers(0, len(values) - 1))
    delta = data.draw(st.integers(1, 1000) | st.integers(-1000, -1))
    changed = values.copy()
    changed[index] += delta
    result = compare(values, changed)
    assert not result.ok and result.max_error == abs(delta)


@given(floats, st.floats(0, 0.45))
def test_relative_changes_within_rtol_agree(values, share):
    rtol = 1e-6
    assert compare(values, values * (1 + share * rtol), rtol=rtol).ok


def _parse(argv):
    return build_parser().parse_args(argv)


@given(st.lists(st.integers(-3, 64), min_size=1, max_size=6))
def test_workers_parse_or_refuse(counts):
    text = ",".join(map(str, counts))
    if min(counts) >= 1:
        assert _parse(["all", "--workers", text]).workers == sorted(set(counts))
    else:
        with pytest.raises(UsageError):
            _parse(["all", "--workers", text])


@given(st.text(max_size=12))
def test_size_is_a_label_a_positive_number_or_a_usage_error(text):
    try:
        size = _parse(["all", f"--size={text}"]).size
    except UsageError:
        return
    assert size in ("small", "medium", "large") or (isinstance(size, int) and size > 0)
