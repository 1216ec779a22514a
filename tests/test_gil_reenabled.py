"""On a free-threaded build, the import that turns the GIL back on is named: header, JSON, notes, verdict."""

import json
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import warnings

import pytest

from cookbook import environment

# CPython's own words (3.13t, 3.14t) when an extension without a Py_mod_gil slot is imported.
CPYTHON_SAYS = (
    "The global interpreter lock (GIL) has been enabled to load module 'gilmod', which has not declared "
    "that it can run safely without the GIL. To override this behavior and keep the GIL disabled (at your "
    "own risk), run with PYTHON_GIL=0 or -Xgil=0."
)

EXTENSION = """
#include <Python.h>
/* Declares nothing about free-threading, so importing it turns the GIL back on. */
static struct PyModuleDef gilmod = {PyModuleDef_HEAD_INIT, "gilmod", NULL, 0, NULL};
PyMODINIT_FUNC PyInit_gilmod(void) { return PyModuleDef_Init(&gilmod); }
"""

RECIPE = '''
"""Sum squares on threads, after importing an extension that does not declare free-threading support."""
from concurrent.futures import ThreadPoolExecutor

import gilmod  # noqa: F401

SIZES = {"small": 20_000, "large": 40_000}


def make_input(size, seed=0):
    return [list(range(i, size, 8)) for i in range(8)]


def squares(chunk):
    return sum(x * x for x in chunk)


def serial(data, n_workers):
    return sum(map(squares, data))


def python_threads(data, n_workers):
    with ThreadPoolExecutor(n_workers) as pool:
        return sum(pool.map(squares, data))


VARIANTS = {"serial": serial, "python_threads": python_threads}
'''

KERNEL = """
import gilmod  # noqa: F401


def make_chunks():
    return [list(range(i, 20_000, 8)) for i in range(8)]


def kernel(chunk):
    return sum(x * x for x in chunk)
"""


def test_the_import_named_in_cpythons_warning_is_kept(monkeypatch):
    gil = {"on": False}
    monkeypatch.setattr(environment, "free_threaded_build", lambda: True)
    monkeypatch.setattr(environment, "gil_enabled", lambda: gil["on"])
    monkeypatch.setattr(environment, "_reenabled_by", [])
    with warnings.catch_warnings(record=True) as passed_on:
        warnings.simplefilter("always")
        with environment.watching_gil():
            gil["on"] = True  # what the import does
            warnings.warn(CPYTHON_SAYS, RuntimeWarning, stacklevel=1)
            warnings.warn("something else", UserWarning, stacklevel=1)
    assert environment.gil_reenabled_by() == "gilmod"
    assert [str(w.message) for w in passed_on] == ["something else"]  # the others go on as they came


def test_without_the_gil_coming_back_nothing_is_named(monkeypatch):
    monkeypatch.setattr(environment, "free_threaded_build", lambda: True)
    monkeypatch.setattr(environment, "gil_enabled", lambda: False)
    monkeypatch.setattr(environment, "_reenabled_by", [])
    with environment.watching_gil():
        import json  # noqa: F401  (nothing that touches the GIL)
    assert environment.gil_reenabled_by() is None


free_threaded = pytest.mark.skipif(
    not environment.free_threaded_build() or environment.gil_enabled(),
    reason="needs a free-threaded build with the GIL off",
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A folder with the extension built for this Python, a recipe and a kernel that import it."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler to build the test extension")
    folder = tmp_path_factory.mktemp("gilmod")
    (folder / "gilmod.c").write_text(EXTENSION)
    built = folder / f"gilmod{sysconfig.get_config_var('EXT_SUFFIX')}"
    include = sysconfig.get_path("include")
    subprocess.run(
        [compiler, "-shared", "-fPIC", f"-I{include}", "gilmod.c", "-o", built], cwd=folder, check=True
    )
    (folder / "gil_recipe.py").write_text(textwrap.dedent(RECIPE))
    (folder / "gil_kernel.py").write_text(textwrap.dedent(KERNEL))
    return folder


@free_threaded
def test_a_run_names_the_import_in_the_header_the_notes_and_the_json(folder):
    out = folder / "run.json"
    done = subprocess.run(
        [sys.executable, "-m", "cookbook.run", "gil_recipe.py", "--check-only", "--json", str(out)],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "free-threaded build, but importing gilmod re-enabled the GIL" in done.stdout.splitlines()[0]
    assert (
        "importing gilmod re-enabled the GIL (it does not declare free-threading support), "
        "in the process that ran these steps: their threads ran with a GIL" in done.stdout
    )
    record = json.loads(out.read_text())
    assert record["environment"]["gil_reenabled_by"] == "gilmod"
    assert record["recipes"][0]["thread_pools"]["gil_reenabled_by"] == "gilmod"


@free_threaded
def test_advise_says_so_in_its_verdict(folder):
    done = subprocess.run(
        [sys.executable, "-m", "cookbook.advise", "gil_kernel.py:kernel", "--check-only"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    [verdict] = [line for line in done.stdout.splitlines() if line.startswith("kernel: ")]
    assert "importing gilmod re-enabled the GIL" in verdict
