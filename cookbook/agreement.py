"""Check a variant's result against the serial reference."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Agreement", "compare"]


@dataclass(frozen=True)
class Agreement:
    """Whether a result agrees with the reference, and by how much it differs."""

    ok: bool
    max_error: float | None  # largest absolute difference; None when not comparable
    detail: str = ""  # why it disagrees, empty when it agrees


KINDS = {"b": "a bool", "i": "an integer", "u": "an integer", "f": "a float", "c": "a complex"}


def compare(expected: Any, actual: Any, *, rtol: float = 0.0, atol: float = 0.0) -> Agreement:
    """Compare ``actual`` with ``expected``: exact for integers, ``rtol``/``atol`` for floats.

    The dtype kinds must match (bool, integer, float, complex). Floats agree
    where ``|actual - expected| <= atol + rtol * |expected|``; NaN only where
    the reference has NaN, and an infinity only where the reference has the
    same one. Two lists (or tuples) are compared item by item, so that their
    items may differ in shape (one result per chunk, say).
    """
    if isinstance(expected, (list, tuple)) and isinstance(actual, (list, tuple)):
        kind = _numbers(expected)
        if kind is None or kind != _numbers(actual) or len(expected) != len(actual):
            return _items(expected, actual, rtol=rtol, atol=atol)
        expected, actual = np.asarray(expected), np.asarray(actual)  # one array call, not one a number
    want, got = np.asarray(expected), np.asarray(actual)
    if want.shape != got.shape:
        return Agreement(False, None, f"shape {got.shape}, expected {want.shape}")
    if want.dtype.kind not in KINDS or got.dtype.kind not in KINDS:
        same = bool(np.array_equal(want, got))
        return Agreement(same, None, "" if same else "values differ")
    if KINDS[want.dtype.kind] != KINDS[got.dtype.kind]:
        return Agreement(
            False, None, f"dtype {got.dtype}, expected {KINDS[want.dtype.kind]} dtype like {want.dtype}"
        )
    if want.dtype.kind in "biu":
        if np.array_equal(want, got):
            return Agreement(True, 0.0)
        wrong = int(np.count_nonzero(want != got))
        error = float(np.max(np.abs(got.astype(np.float64) - want.astype(np.float64))))
        return Agreement(False, error, f"{wrong} of {want.size} values differ")
    nan_mismatch = np.isnan(want) != np.isnan(got)
    if nan_mismatch.any():
        return Agreement(
            False, None, f"NaN in {int(nan_mismatch.sum())} place(s) where the reference differs"
        )
    infinite = np.isinf(want)
    inf_mismatch = infinite & (got != want)
    if inf_mismatch.any():
        return Agreement(
            False, None, f"{int(inf_mismatch.sum())} value(s) differ where the reference is infinite"
        )
    with np.errstate(invalid="ignore", over="ignore"):
        finite = ~(np.isnan(want) | infinite)
        diff = np.abs(got[finite] - want[finite])
        ok = bool(np.all(diff <= atol + rtol * np.abs(want[finite])))
    error = float(diff.max()) if diff.size else 0.0
    detail = "" if ok else f"beyond rtol={rtol:g}, atol={atol:g}"
    return Agreement(ok, error, detail)


def _numbers(items: Sequence[Any]) -> str | None:
    """``"f"`` for a list of floats only, ``"i"`` for one of integers only (bools apart); else None."""
    if items and all(type(x) is float or isinstance(x, np.floating) for x in items):
        return "f"
    if items and all(type(x) is int or isinstance(x, np.integer) for x in items):
        return "i"
    return None


def _items(expected: Sequence[Any], actual: Sequence[Any], *, rtol: float, atol: float) -> Agreement:
    if len(expected) != len(actual):
        return Agreement(False, None, f"{len(actual)} items, expected {len(expected)}")
    worst = 0.0
    for index, (want, got) in enumerate(zip(expected, actual, strict=True)):
        item = compare(want, got, rtol=rtol, atol=atol)
        if not item.ok:
            return Agreement(False, item.max_error, f"item {index}: {item.detail}")
        worst = max(worst, item.max_error or 0.0)
    return Agreement(True, worst)
