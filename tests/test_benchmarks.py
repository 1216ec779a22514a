"""The asv suite covers every variant of every packaged recipe, and never imports the harness."""

import ast
from pathlib import Path

import pytest

from benchmarks import bench_recipes
from cookbook.recipe import load, packaged_names

SUITE = Path(bench_recipes.__file__)


@pytest.mark.parametrize("name", packaged_names())
def test_every_recipe_has_a_benchmark_class_over_all_its_variants(name):
    class_name = "Time" + "".join(part.title() for part in name.split("_"))
    benchmark = getattr(bench_recipes, class_name)
    variants, workers = benchmark.params
    assert variants == list(load(name).variants)
    assert 1 in workers and benchmark.param_names == ("variant", "n_workers")


def test_one_thread_variants_are_skipped_beyond_one_worker():
    benchmark = bench_recipes.TimeCountdown()
    with pytest.raises(NotImplementedError):
        benchmark.setup("numba", 2)


def test_the_suite_never_imports_the_harness():
    for node in ast.walk(ast.parse(SUITE.read_text())):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            assert not any(n.split(".")[0] == "cookbook" for n in names)
