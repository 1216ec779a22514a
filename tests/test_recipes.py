"""Every packaged recipe: the contract, and agreement of every variant with serial."""

import ast
import functools
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cookbook.agreement import compare
from cookbook.recipe import CORE_VARIANTS, load, load_all, packaged_names
from tests.conftest import sweep_all_but

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


def _module(name):
    return importlib.import_module(f"recipes.{name}")


@pytest.mark.parametrize("name", NAMES)
def test_recipe_declares_its_smallest_size_and_tasks(name):
    module = _module(name)
    assert isinstance(module.MIN_SIZE, int) and 1 <= module.MIN_SIZE <= module.SIZES["small"]
    assert isinstance(module.N_TASKS, int) and module.N_TASKS >= 1


@pytest.mark.parametrize("workers", [1, 3])
@pytest.mark.parametrize("name", NAMES)
def test_variants_agree_at_the_smallest_size(name, workers):
    recipe = load(name)
    data = recipe.make_input(_module(name).MIN_SIZE)
    expected = recipe.variants["serial"](data, 1)
    for variant, run in recipe.variants.items():
        if variant != "serial":
            agreement = compare(expected, run(data, workers), rtol=recipe.rtol, atol=recipe.atol)
            assert agreement.ok, f"{name}.{variant} x{workers} at MIN_SIZE: {agreement.detail}"


@pytest.mark.parametrize("name", [name for name in NAMES if _module(name).MIN_SIZE > 1])
def test_make_input_refuses_a_size_below_the_smallest(name):
    module = _module(name)
    with pytest.raises(ValueError, match=f"below this recipe's smallest size, {module.MIN_SIZE}"):
        module.make_input(module.MIN_SIZE - 1)


@pytest.mark.parametrize("kernel", ["skips the stores", "stores wrong values"])
def test_stream_triad_checks_what_each_call_stores(kernel, monkeypatch):
    """Even after correct calls have left the right values in the shared output array."""
    module, recipe = _module("stream_triad"), load("stream_triad")
    data = module.make_input(module.SIZES["small"])
    expected = module.serial(data, 1)
    module.serial(data, 1)  # a later call, as in the harness's warm-up: it writes the shared array
    real = module.triad_numpy

    def skips_stores(b, c, scalar, out):
        return real(b, c, scalar, np.empty(len(out)))  # the right values, stored elsewhere

    def stores_wrong_values(b, c, scalar, out):
        return real(b, c, scalar + 1.0, out)

    fake = skips_stores if kernel == "skips the stores" else stores_wrong_values
    monkeypatch.setattr(module, "triad_numpy", fake)
    for variant, workers in [("numpy", 1), ("numpy_threads", 1), ("numpy_threads", 3)]:
        result = module.VARIANTS[variant](data, workers)
        agreement = compare(expected, result, rtol=recipe.rtol, atol=recipe.atol)
        assert not agreement.ok, f"{variant} x{workers} {kernel}, yet agrees with serial"


def test_matmul_blas_limits_blas_by_the_cpu_affinity(monkeypatch):
    module = _module("matmul_blas")
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    real_limit, asked = module.BLAS.limit, []

    def spy(**kwargs):
        asked.append(kwargs["limits"])
        return real_limit(**kwargs)

    monkeypatch.setattr(module.BLAS, "limit", spy)
    data = module.make_input(module.SIZES["small"])
    for workers in (1, 2):
        module.numpy_threads(data, workers)
    assert asked == [1, 1]  # one usable core; os.cpu_count() would have given 8 and 4


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
def test_python_interpreters_is_there_or_explained(name):
    recipe = load(name)
    if sys.version_info < (3, 14):  # no InterpreterPoolExecutor: never an error, always a reason
        assert "python_interpreters" not in recipe.variants
    assert "python_interpreters" in recipe.variants or recipe.not_applicable["python_interpreters"]


def test_the_peer_workload_runs_the_mandelbrot_recipes_variants_on_its_window():
    """scripts/free_threading/mandelbrot_guide.py: the recipe's variants on a peer's window and step limit."""
    guide = load(str(RECIPES_DIR.parent / "scripts" / "free_threading" / "mandelbrot_guide.py"))
    assert guide.variants.keys() == load("mandelbrot").variants.keys()
    data = guide.make_input(guide.sizes["small"])
    xs, ys, _, max_iter = data
    assert (len(xs), len(ys), max_iter) == (80, 80, 2000)
    expected = guide.variants["serial"](data, 1)
    assert expected.max() == max_iter and expected.min() < max_iter  # the window holds both kinds of pixel
    for variant in ("python_threads", "joblib_processes", "python_interpreters"):
        if variant in guide.variants:
            assert np.array_equal(guide.variants[variant](data, 2), expected), variant


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


WATCH_THE_MAIN_BLOCK = """
import runpy, sys, time

path, events, clock = sys.argv[1], [], time.perf_counter


def from_the_main_block(frame):
    return frame is not None and frame.f_code.co_filename == path and frame.f_code.co_name == "<module>"


def read_clock():
    if from_the_main_block(sys._getframe(1)):
        events.append(("clock", None))
    return clock()


def profile(frame, event, arg):
    if event == "call" and frame.f_code.co_filename == path and from_the_main_block(frame.f_back):
        events.append(("call", frame.f_code.co_name))


time.perf_counter = read_clock
sys.setprofile(profile)
runpy.run_path(path, run_name="__main__")
sys.setprofile(None)
print(events)
"""


@pytest.fixture(scope="module")
def copied_run(tmp_path_factory):
    """A recipe copied alone into an empty folder and run as a script, its main block watched: once each."""

    @functools.cache
    def run(name):
        folder = tmp_path_factory.mktemp(name)
        copy = shutil.copy(RECIPES_DIR / f"{name}.py", folder / f"{name}.py")
        return subprocess.run(
            [sys.executable, "-c", WATCH_THE_MAIN_BLOCK, str(copy)],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=300,
        )

    return run


# Every main block follows one pattern: two recipes check it, the others sweep.
COPIED = sweep_all_but(NAMES, ("count_primes", "mandelbrot"))


@pytest.mark.parametrize("name", COPIED)
def test_recipe_copied_alone_still_runs(copied_run, name):
    done = copied_run(name)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if "agrees:" in line]
    assert len(lines) == len(load(name).variants)
    assert all(line.endswith("agrees: True") for line in lines), done.stdout


@pytest.mark.parametrize("name", COPIED)
def test_a_copied_recipe_times_each_variant_on_a_warm_call(copied_run, name):
    done = copied_run(name)
    assert done.returncode == 0, done.stderr
    events = ast.literal_eval(done.stdout.splitlines()[-1])
    timed, called, clock_reads = {}, set(), 0
    for kind, function in events:
        if kind == "clock":
            clock_reads += 1
        elif clock_reads % 2:  # between a start and an end reading: timed
            timed[function] = function in called
        called.add(function)
    variants = {variant.__name__ for variant in load(name).variants.values()}
    assert variants <= timed.keys(), f"never timed: {variants - timed.keys()}"
    assert all(timed[v] for v in variants), f"timed on their first call (numba's compile time): {timed}"


def _without_numba(tmp_path):
    """An environment where ``import numba`` raises ImportError, as on a Python numba has no wheels for."""
    blocker = tmp_path / "blocked" / "numba"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text('raise ImportError("numba is blocked by this test")\n')
    path = [str(blocker.parent), os.environ.get("PYTHONPATH", "")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, path))}


EVERY_RECIPE_WITHOUT_NUMBA = """
import json, sys
from cookbook.agreement import compare
from cookbook.recipe import load_all

found = {}
for recipe in load_all():  # every variant left, at the recipe's smallest size, at 1 and 2 workers
    data = recipe.make_input(sys.modules[f"recipes.{recipe.name}"].MIN_SIZE)
    expected = recipe.variants["serial"](data, 1)
    agrees = {
        variant: all(compare(expected, run(data, n), rtol=recipe.rtol, atol=recipe.atol).ok for n in (1, 2))
        for variant, run in recipe.variants.items()
    }
    found[recipe.name] = {"agrees": agrees, "not_applicable": recipe.not_applicable}
print(json.dumps(found))
"""


def test_without_numba_only_the_numba_variants_are_skipped(tmp_path):
    env = _without_numba(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", EVERY_RECIPE_WITHOUT_NUMBA],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.splitlines()[-1])
    assert found.keys() == set(NAMES)  # no recipe is lost whole
    for name, seen in found.items():
        variants = load(name).variants  # loaded here, with numba
        compiled = {v for v in variants if v.startswith("numba")}
        assert compiled <= seen["not_applicable"].keys(), name
        assert seen["agrees"] == dict.fromkeys(variants.keys() - compiled, True), name
    out = tmp_path / "no-numba.json"
    done = subprocess.run(
        [sys.executable, "-m", "cookbook.run", "countdown", "--check-only", "--json", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "numba_threads: not run: numba is not installed for this Python" in done.stdout
    [run] = json.loads(out.read_text())["recipes"]
    assert {m["status"] for m in run["measurements"]} == {"OK"}


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
