"""Each recipe's RTOL/ATOL is as tight as it claims: just past it is a MISMATCH.

A recipe's tolerance is set about ten times above the largest difference its
variants were measured to have from serial (see the comment at each RTOL or
ATOL). These tests check the other side: that the tolerance does reject what
lies just beyond it, so that a loose tolerance cannot hide a real error, such
as a coarser quadrature rule.
"""

import importlib

import numpy as np
import pytest

from cookbook.agreement import compare
from cookbook.recipe import load, load_all

TOLERANT = [recipe.name for recipe in load_all() if recipe.rtol or recipe.atol]
EXACT = [recipe.name for recipe in load_all() if not (recipe.rtol or recipe.atol)]


@pytest.fixture(scope="module")
def answers():
    """serial's small-size answer per recipe, computed once."""
    out = {}
    for recipe in load_all():
        out[recipe.name] = np.asarray(recipe.variants["serial"](recipe.make_input(recipe.sizes["small"]), 1))
    return out


def _perturbed(answer, index, by):
    """``answer`` with one element moved by ``by`` (along the real axis for complex values)."""
    moved = answer.copy()
    moved.flat[index] += by
    return moved


@pytest.mark.parametrize("name", TOLERANT)
def test_just_past_the_tolerance_is_a_mismatch(answers, name):
    recipe, answer = load(name), answers[name]
    assert answer.dtype.kind in "fc", f"{name}: a tolerance on a {answer.dtype} answer"
    allowed = recipe.atol + recipe.rtol * np.abs(answer.ravel())
    tightest = int(np.argmin(allowed))
    assert allowed[tightest] > 0
    below = compare(
        answer, _perturbed(answer, tightest, 0.5 * allowed[tightest]), rtol=recipe.rtol, atol=recipe.atol
    )
    above = compare(
        answer, _perturbed(answer, tightest, 1.5 * allowed[tightest]), rtol=recipe.rtol, atol=recipe.atol
    )
    assert below.ok, f"{name}: half the allowed difference is a mismatch: {below.detail}"
    assert not above.ok, f"{name}: 1.5x the allowed difference agrees"


@pytest.mark.parametrize("name", EXACT)
def test_one_step_off_is_a_mismatch_without_a_tolerance(answers, name):
    recipe, answer = load(name), answers[name]
    moved = answer.copy()
    first = moved.flat[0]
    if answer.dtype.kind == "f":
        moved.flat[0] = np.nextafter(first, np.inf)  # one ulp
    elif answer.dtype.kind in "iu":
        moved.flat[0] = first + 1
    else:
        moved.flat[0] = "x" + str(first)[1:]
    assert moved.flat[0] != first
    assert not compare(answer, moved, rtol=recipe.rtol, atol=recipe.atol).ok


@pytest.mark.parametrize(("variant", "workers"), [("numpy", 1), ("numpy_threads", 1), ("numpy_threads", 3)])
def test_a_40_node_rule_is_a_mismatch_for_quad_callback(answers, variant, workers, monkeypatch):
    """The 64-node rule agrees with quad to ~4e-14; a 40-node one is off by ~7e-13 near P_MAX."""
    module = importlib.import_module("recipes.quad_callback")
    recipe, expected = load("quad_callback"), answers["quad_callback"]
    data = module.make_input(module.SIZES["small"])
    assert compare(expected, recipe.variants[variant](data, workers), rtol=recipe.rtol, atol=recipe.atol).ok
    nodes, weights = module.gauss_legendre(40)
    monkeypatch.setattr(module, "NODES", nodes)
    monkeypatch.setattr(module, "WEIGHTS", weights)
    agreement = compare(expected, recipe.variants[variant](data, workers), rtol=recipe.rtol, atol=recipe.atol)
    assert not agreement.ok, f"a 40-node rule agrees within rtol={recipe.rtol:g}"
