"""Every packaged recipe: the contract, and agreement of every variant with serial."""

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cookbook.agreement import compare
from cookbook.recipe import CORE_VARIANTS, load, load_all, packaged_names

RECIPES_DIR = Path(__file__).resolve().parents[1] / "recipes"
RECIPE_FILES = sorted(p for p in RECIPES_DIR.glob("*.py") if not p.stem.startswith("_"))
NAMES = [p.stem for p in RECIPE_FILES]
CASES = [
    (recipe.name, variant) for recipe in load_all() for variant in recipe.variants if variant != "serial"
]


@pytest.fixture(scope="module")
def references():
    """serial's small-size result per recipe, computed once."""
    out = {}
    for recipe in load_all():
        data = recipe.make_input(recipe.sizes["small"])
        out[recipe.name] = (data, recipe.variants["serial"](data, 1))
    return out


@pytest.mark.parametrize("workers", [1, 3])
@pytest.mark.parametrize(("name", "variant"), CASES)
def test_variant_agrees_with_serial(references, name, variant, workers):
    recipe = load(name)
    data, expected = references[name]
    result = recipe.variants[variant](data, workers)
    agreement = compare(expected, result, rtol=recipe.rtol, atol=recipe.atol)
    assert agreement.ok, f"{name}.{variant} x{workers}: {agreement.detail}"


def test_every_recipe_file_is_discovered():
    assert NAMES, "no recipe files found"
    assert packaged_names() == NAMES
    assert [r.name for r in load_all()] == NAMES


@pytest.mark.parametrize("path", RECIPE_FILES, ids=NAMES)
def test_recipe_never_imports_the_harness(path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            continue
        assert not any(n == "cookbook" or n.startswith("cookbook.") for n in names), path


@pytest.mark.parametrize("name", NAMES)
def test_every_core_variant_is_there_or_explained(name):
    recipe = load(name)
    for variant in CORE_VARIANTS:
        assert variant in recipe.variants or recipe.not_applicable.get(variant), (name, variant)
    assert not set(recipe.variants) & set(recipe.not_applicable)


@pytest.mark.parametrize("name", NAMES)
def test_docstring_names_every_variant(name):
    module = sys.modules[f"recipes.{name}"]
    doc = module.__doc__
    recipe = load(name)
    for variant in [*recipe.variants, *recipe.not_applicable]:
        assert re.search(rf"^{variant}:", doc, re.MULTILINE), f"{name}: docstring says nothing of {variant}"


@pytest.mark.parametrize("name", NAMES)
def test_sizes_are_ordered_and_inputs_reproducible(references, name):
    recipe = load(name)
    assert recipe.sizes["small"] < recipe.sizes["large"]
    again = recipe.variants["serial"](recipe.make_input(recipe.sizes["small"]), 1)
    assert compare(references[name][1], again).ok, "make_input(size, seed=0) gave another answer"


@pytest.mark.parametrize("path", RECIPE_FILES, ids=NAMES)
def test_recipe_copied_alone_still_runs(path, tmp_path):
    copy = shutil.copy(path, tmp_path / path.name)
    done = subprocess.run(
        [sys.executable, str(copy)], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if "agrees:" in line]
    assert len(lines) == len(load(path.stem).variants)
    assert all(line.endswith("agrees: True") for line in lines), done.stdout


def _without_numba(tmp_path):
    """An environment where ``import numba`` raises ImportError, as on a Python numba has no wheels for."""
    blocker = tmp_path / "blocked" / "numba"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text('raise ImportError("numba is blocked by this test")\n')
    path = [str(blocker.parent), os.environ.get("PYTHONPATH", "")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, path))}


def test_without_numba_only_the_numba_variants_are_skipped(tmp_path):
    out = tmp_path / "no-numba.json"
    done = subprocess.run(
        [sys.executable, "-m", "cookbook.run", "all", "--check-only", "--json", str(out)],
        env=_without_numba(tmp_path),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert "numba_threads: not run: numba is not installed for this Python" in done.stdout
    record = json.loads(out.read_text())
    assert record["options"]["skipped_recipes"] == []  # no recipe is lost whole
    runs = {run["recipe"]: run for run in record["recipes"]}
    assert runs.keys() == set(NAMES)
    for name, run in runs.items():
        variants = load(name).variants  # loaded here, with numba
        compiled = {v for v in variants if v.startswith("numba")}
        assert compiled <= run["not_applicable"].keys(), name
        assert {m["variant"] for m in run["measurements"]} == variants.keys() - compiled, name
        assert {m["status"] for m in run["measurements"]} == {"OK"}, name


def test_recipe_copied_alone_runs_without_numba(tmp_path):
    path = RECIPES_DIR / "quad_callback.py"
    copy = shutil.copy(path, tmp_path / path.name)
    done = subprocess.run(
        [sys.executable, str(copy)],
        cwd=tmp_path,
        env=_without_numba(tmp_path),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if "agrees:" in line]
    assert [line.split()[0] for line in lines] == [
        "serial",
        "python_threads",
        "numpy",
        "numpy_threads",
        "joblib_processes",
    ]
    assert all(line.endswith("agrees: True") for line in lines), done.stdout
