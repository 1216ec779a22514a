"""No measured figure is typed by hand.

A timing or a ratio in the README, ``docs/``, a command's ``--help`` or a
recipe's docstrings comes from a committed results file through a render
block (``python -m cookbook.render``), or it is a setting: listed in
``SETTINGS`` as the code sets it.
"""

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cookbook import backends, compare, probes
from cookbook.options import MODES

ROOT = Path(__file__).resolve().parents[1]
RENDERED = re.compile(r"<!-- render:.*?<!-- /render -->", re.S)
FIGURE = re.compile(
    r"(?<![\w.])\d+(?:\.\d+)?\s?(?:ns|µs|us|ms|s|sec|seconds?|min|minutes?|hours?)(?!\w)"  # a timing
    r"|(?<![\w.])\d+(?:\.\d+)?[x\u00d7](?!\w)"  # a ratio: 2x, 1.85x (or the multiplication sign)
    r"|(?<![\w.])\d+(?:\.\d+)?\s+times\s+(?:faster|slower|as)\b"  # a ratio in words
)
DEFAULT, RIGOROUS = MODES["default"], MODES["rigorous"]
# Settings and examples, not measurements: each written as the code sets it, where the code has it,
# so that a setting changed in the code and not in the prose fails here too.
SETTINGS = [
    f"{compare.FACTOR:g}x",  # compare's factor
    f"{compare.FACTOR:g} times",
    f"within {backends.CONNECT_TIMEOUT_S:g} s",  # how long a dask scheduler's address is tried
    f"{probes.WINDOW_S * 1000:g} ms window",  # the concurrency probe's window
    *(f"{mode.budget_s:g} s per step" for mode in MODES.values()),  # --help's modes
    *(f"{mode.floor_s * 1000:g} ms samples" for mode in MODES.values()),
    f"at least {DEFAULT.floor_s * 1000:g} ms (`--sample-time`; {RIGOROUS.floor_s:g} s with `--rigorous`)",
    f"taken {DEFAULT.budget_s:g} s (`--budget`)",
    f"samples of at least {RIGOROUS.floor_s:g} s and a {RIGOROUS.budget_s:g} s",
    "about 0.1 s per call serially",  # what a recipe's medium size is chosen for (docs/own-recipe.md)
    "'medium' (about 0.1 s",
    "well under 1 s serially",
    "a 3 ms compiled call",  # an example of why short calls are looped
    "a 0.1 s Python call",
]


def typed_figures(text):
    """The figures outside render blocks that are neither a named option's nor a listed setting."""
    found = []
    for line in RENDERED.sub("", text).splitlines():
        unexplained = line
        for setting in SETTINGS:
            unexplained = unexplained.replace(setting, "")
        found += [f"{m.group(0)!r} in: {line.strip()}" for m in FIGURE.finditer(unexplained)]
    return found


def _pages():
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def _docstrings(path):
    tree = ast.parse(path.read_text())
    nodes = [tree, *(n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef)))]
    return "\n".join(doc for node in nodes if (doc := ast.get_docstring(node)))


@pytest.mark.parametrize("page", _pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_a_page_types_no_measured_figure(page):
    assert typed_figures(page.read_text()) == []


@pytest.mark.parametrize("path", sorted((ROOT / "recipes").glob("[!_]*.py")), ids=lambda p: p.name)
def test_a_recipe_docstring_types_no_measured_figure(path):
    assert typed_figures(_docstrings(path)) == []


@pytest.mark.parametrize("command", ["cookbook.run", "cookbook.advise", "cookbook.render"])
def test_help_types_no_measured_figure(command):
    done = subprocess.run([sys.executable, "-m", command, "--help"], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert typed_figures(done.stdout) == []


def test_a_typed_timing_or_ratio_is_caught_and_a_rendered_or_named_one_is_not():
    assert len(typed_figures("a default run takes about 3.5 minutes; rigorous about 4x that")) == 2
    assert len(typed_figures("it took 2.27 times as long, then 1.61 times faster")) == 2
    assert typed_figures("<!-- render: wall r.json -->3 min 55 s<!-- /render --> by default") == []
    assert typed_figures("at least 25 ms (`--sample-time`; 0.1 s with `--rigorous`), from the") == []
    assert len(typed_figures("asv run --quick   # a smoke test (5.5 min here)")) == 1
    assert typed_figures("a 600 x 600 matrix, 5 x size float64, 21 to 147 times per integral") == []
