"""The harness's layers (docs/development.md): each module imports only from its own layer or below."""

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

COOKBOOK = Path(__file__).resolve().parents[1] / "cookbook"
LAYERS = {
    "basis": {
        "agreement",
        "backends",
        "environment",
        "load",
        "options",
        "probes",
        "recipe",
        "scaling",
        "stats",
    },
    "model": {"results"},
    "derivation": {"figures", "trust"},
    "measuring": {"isolate", "kernel", "measure", "progress", "runner", "timing"},
    "reporting": {"advice", "compare", "diagnosis", "export", "plot", "render", "report"},
    "commands": {"__init__", "__main__", "advise", "cli", "magic", "run"},
}
RANK = {module: rank for rank, modules in enumerate(LAYERS.values()) for module in modules}


def imports(path):
    """The cookbook modules that ``path`` imports."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module == "cookbook":
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("cookbook."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("cookbook.")}
    return found - {path.stem}


GRAPH = {path.stem: imports(path) for path in COOKBOOK.glob("*.py")}


def test_every_module_has_a_layer():
    assert GRAPH.keys() == RANK.keys()


def test_no_module_imports_from_a_layer_above_its_own():
    upward = [
        f"{module} ({layer}) imports {used}"
        for layer, modules in LAYERS.items()
        for module in sorted(modules)
        for used in sorted(GRAPH.get(module, ()))
        if RANK[used] > RANK[module]
    ]
    assert upward == []


def test_there_is_no_import_cycle():
    try:
        TopologicalSorter(GRAPH).prepare()
    except CycleError as cycle:
        raise AssertionError(f"import cycle: {cycle.args[1]}") from None
