"""Every published figure is rendered from a committed results file, and a hand edit is caught."""

import json
import re
import textwrap
from pathlib import Path

import pytest

from cookbook import render
from cookbook.run import main as run_main
from tests.conftest import GOOD_RECIPE

ROOT = Path(__file__).resolve().parents[1]


def test_the_committed_docs_are_what_the_committed_results_render():
    assert render.documents(ROOT), "no README.md or docs/ found"
    assert render.check(ROOT) == [], f"stale blocks: run {render.PROG} to regenerate them"


def test_every_published_results_file_records_its_command_date_and_machine():
    for path in sorted((ROOT / "results").glob("*.json")):
        env = json.loads(path.read_text())["environment"]
        assert env["command"].startswith(("python -m cookbook.run ", "python -m cookbook.advise ")), path
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT.*", env["date_utc"]), path
        assert path.name.startswith(env["date_utc"][:10]), f"{path.name}: named after another date"
        assert f"python{env['python'].rsplit('.', 1)[0]}" in path.name, f"{path.name}: another interpreter"


RECIPE = (
    GOOD_RECIPE
    + """
    def python_threads(data, n_workers):
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(n_workers) as pool:
            return np.array(list(pool.map(square, data.tolist())))


    VARIANTS = {"serial": serial, "python_threads": python_threads}
"""
)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A repository root holding one results file of a real (quick) run, and a page of blocks."""
    root = tmp_path_factory.mktemp("site")
    recipe = root / "good_recipe.py"
    recipe.write_text(textwrap.dedent(RECIPE))
    results = root / "results" / "run.json"
    results.parent.mkdir()
    argv = [str(recipe), "--quick", "--size", "large", "--workers", "1,2", "--json", str(results)]
    assert run_main(argv) == 0
    return root


PAGE = """# A page

<!-- render: run results/run.json -->old<!-- /render -->

Threads run at an efficiency of <!-- render: value results/run.json good_recipe python_threads 2 efficiency
-->?<!-- /render -->.

Across recipes: <!-- render: spread results/run.json python_threads 2 efficiency -->?<!-- /render -->.

<!-- render: table results/run.json good_recipe -->
<!-- /render -->

<!-- render: summary results/run.json -->
<!-- /render -->
"""


def _page(site, text=PAGE):
    docs = site / "docs"
    docs.mkdir(exist_ok=True)
    page = docs / "page.md"
    page.write_text(text)
    return page


def test_rendering_fills_each_block_and_then_the_check_passes(site, capsys):
    page = _page(site)
    assert render.main(["--root", str(site), str(page)]) == 0
    text = page.read_text()
    assert "with `python -m cookbook.run " in text and "[run.json](../results/run.json)" in text
    assert "| python_threads | 2 |" in text  # the recipe's table, as the report prints it
    assert "| good_recipe |" in text  # the summary's row
    assert re.search(r"efficiency of <!-- render: [^>]*-->\d\.\d\d \[-\]<!-- /render -->\.", text)
    assert re.search(
        r"Across recipes: <!-- render: [^>]*-->(\d\.\d\d)-\1<!-- /render -->\.", text
    )  # one recipe
    assert render.main(["--root", str(site), "--check", str(page)]) == 0
    assert "rendered docs/page.md" in capsys.readouterr().out


def test_a_hand_edited_figure_fails_the_check_and_rendering_restores_it(site, capsys):
    page = _page(site)
    render.main(["--root", str(site), str(page)])
    rendered = page.read_text()
    edited = re.sub(r"(\| python_threads \| 2 \| [^|]*\| [^|]*\| )\d", r"\g<1>9", rendered, count=1)
    assert edited != rendered
    page.write_text(edited)
    assert render.main(["--root", str(site), "--check", str(page)]) == 1
    err = capsys.readouterr().err
    assert "stale: docs/page.md:10: table results/run.json good_recipe" in err
    assert page.read_text() == edited  # --check writes nothing
    assert render.main(["--root", str(site), str(page)]) == 0
    assert page.read_text() == rendered


@pytest.mark.parametrize(
    ("block", "message"),
    [
        (
            "<!-- render: graph results/run.json -->x<!-- /render -->",
            "unknown block 'graph results/run.json'",
        ),
        (
            "<!-- render: table results/missing.json good_recipe --><!-- /render -->",
            "missing.json: no such file",
        ),
        ("<!-- render: table results/run.json nope --><!-- /render -->", "no recipe 'nope'"),
        (
            "<!-- render: value results/run.json good_recipe serial 1 speed --><!-- /render -->",
            "unknown field",
        ),
        ("<!-- render: table results/run.json --><!-- /render -->", "table takes a results file and 1 more"),
        (
            "<!-- render: spread results/run.json python_threads 2 efficiency good_recipe -->"
            "<!-- /render -->",
            "recipes to leave out as -NAME",
        ),
        ("<!-- render: spread results/run.json numba 1 median --><!-- /render -->", "no recipe has median"),
        (
            "<!-- render: compare results/run.json serial 1 median x --><!-- /render -->",
            "compare takes two or more results files, then VARIANT",
        ),
        (
            "<!-- render: compare_recipe results/run.json results/run.json good_recipe two median -->"
            "<!-- /render -->",
            "workers must be a number",
        ),
        (
            "<!-- render: compare_recipe results/run.json results/run.json nope 1 median --><!-- /render -->",
            "no run has recipe 'nope'",
        ),
    ],
)
def test_a_bad_block_is_one_line_naming_the_page_and_nothing_is_written(site, capsys, block, message):
    page = _page(site, f"# A page\n\n{block}\n")
    assert render.main(["--root", str(site), str(page)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "page.md" in err, err
    assert page.read_text() == f"# A page\n\n{block}\n"


def test_a_results_file_of_an_interrupted_run_is_refused(site, capsys):
    stopped = json.loads((site / "results" / "run.json").read_text()) | {"complete": False}
    (site / "results" / "stopped.json").write_text(json.dumps(stopped))
    page = _page(site, "<!-- render: summary results/stopped.json --><!-- /render -->\n")
    assert render.main(["--root", str(site), str(page)]) == 2
    assert "not a complete results file" in capsys.readouterr().err


def test_a_plot_block_draws_the_plot_beside_the_page_and_links_it(site):
    pytest.importorskip("matplotlib")
    page = _page(site, "<!-- render: plot results/run.json good_recipe -->\n<!-- /render -->\n")
    assert render.main(["--root", str(site), str(page)]) == 0
    assert (site / "docs" / "img" / "good_recipe.png").read_bytes().startswith(b"\x89PNG")
    assert "](img/good_recipe.png)" in page.read_text()
    (site / "docs" / "img" / "good_recipe.png").unlink()
    assert render.main(["--root", str(site), "--check", str(page)]) == 0  # reads the text, draws nothing
    assert not (site / "docs" / "img" / "good_recipe.png").exists()


@pytest.fixture(scope="module")
def slower(site):
    """results/slower.json: the site's run with every call twice as long, marked as a 3.14t run."""
    record = json.loads((site / "results" / "run.json").read_text())
    record["environment"] |= {"python": "3.14.0", "free_threaded_build": True, "gil_enabled": False}
    for run in record["recipes"]:
        for m in run["measurements"]:
            for sample in m["samples"] or []:
                sample["per_call_s"] *= 2
    (site / "results" / "slower.json").write_text(json.dumps(record))
    return "results/slower.json"


def test_a_compare_block_sets_runs_side_by_side_with_the_ratio_of_their_medians(site, slower):
    files = "results/run.json results/slower.json"
    page = _page(
        site,
        f"<!-- render: compare {files} serial 1 median -->\n<!-- /render -->\n\n"
        f"<!-- render: compare_recipe {files} good_recipe 2 efficiency -->\n<!-- /render -->\n",
    )
    assert render.main(["--root", str(site), str(page)]) == 0
    by_recipe, by_variant = page.read_text().split("<!-- render: compare_recipe")
    assert "| recipe | CPython 3." in by_recipe
    assert "| CPython 3.14.0t | CPython 3.14.0t / CPython 3." in by_recipe
    assert re.search(r"\| good_recipe \| [^|]+ \| [^|]+ \| 2\.00x \[[^]]*\] \|", by_recipe)
    assert "over 1 row: median 2.00x, range 2.00x-2.00x." in by_recipe
    assert "`serial` at 1 worker, median [95%]:" in by_recipe
    assert "good_recipe at 2 workers, efficiency [95%]:" in by_variant
    rows = re.findall(r"^\| (\w+) \| \d\.\d\d \[", by_variant, re.MULTILINE)
    assert rows == ["python_threads"], by_variant  # the variants timed at 2 workers; no ratio column


def test_a_first_calls_start_cost_the_copy_bandwidth_and_the_wall_time_render_inline(site):
    page = _page(
        site,
        "Start: <!-- render: value results/run.json good_recipe python_threads 2 start_s -->?"
        "<!-- /render -->;"
        " copy: <!-- render: bandwidth results/run.json -->?<!-- /render -->;"
        " took <!-- render: wall results/run.json -->?<!-- /render -->.\n",
    )
    assert render.main(["--root", str(site), str(page)]) == 0
    text = page.read_text()
    assert re.search(r"Start: <!-- [^>]*-->[\d.]+ (ns|µs|ms|s)<!-- /render -->;", text), text
    assert re.search(r"copy: <!-- [^>]*-->\d+\.\d GB/s<!-- /render -->;", text), text
    assert re.search(r"took <!-- [^>]*-->(\d+\.\d s|\d+ min \d+ s)<!-- /render -->\.", text), text


def test_a_repeat_block_says_how_far_two_runs_agree(site, slower):
    page = _page(site, f"<!-- render: repeat results/run.json {slower} -->\n<!-- /render -->\n")
    assert render.main(["--root", str(site), str(page)]) == 0
    text = page.read_text()
    assert re.search(r"- `compare` called \d+ of \d+ rows changed", text), text
    # every call twice as long: each efficiency is the same ratio in both runs
    assert "Of the 1 compute-bound efficiencies at the most workers, 1 were within 0.05" in text, text
    assert "(the largest difference 0.00)" in text and "- Rows flagged: " in text


def test_a_flags_block_counts_the_flagged_rows_of_each_run_by_flag(site, slower):
    page = _page(site, f"<!-- render: flags results/run.json {slower} -->\n<!-- /render -->\n")
    assert render.main(["--root", str(site), str(page)]) == 0
    text = page.read_text()
    assert "[run.json](../results/run.json) | [slower.json](../results/slower.json) |" in text
    assert re.search(r"^\| timed rows \| (\d+) \| \1 \|$", text, re.MULTILINE), text
    assert re.search(r"^\| flagged \| \d+ \(\d+%\) \| \d+ \(\d+%\) \|$", text, re.MULTILINE), text
    assert all(f"| `{kind}` |" in text for kind in ("drift", "modes", "busy", "impossible", "idle", "few"))


COMMITTED = "results/2026-12-02-epyc2-cpython3.11-default.json"


def test_compare_and_render_give_the_same_figure_for_the_same_file(capsys):
    assert run_main(["compare", str(ROOT / COMMITTED), str(ROOT / COMMITTED)]) == 0
    table = capsys.readouterr().out
    for recipe, variant, workers in [("countdown", "serial", 1), ("mandelbrot", "numba_threads", 2)]:
        block = f"<!-- render: value {COMMITTED} {recipe} {variant} {workers} median --><!-- /render -->"
        text = render.render_text(block, root=ROOT, document=ROOT / "page.md")
        figure = re.search(r"-->(.+)<!-- /render", text).group(1)
        assert "[" in figure  # a median with its interval
        [row] = [
            line
            for line in table.splitlines()
            if f" {recipe} " in line and f" {variant} " in line and f" {workers} " in line
        ]
        assert row.count(figure) == 2, (figure, row)  # old and new: the same file


@pytest.fixture(scope="module")
def four_ways(site):
    """results/ways.json: the site's run, its python_threads rows copied as the process and
    interpreter rungs, with costs for interpreters twice the threads'."""
    record = json.loads((site / "results" / "run.json").read_text())
    for run in record["recipes"]:
        threads = [m for m in run["measurements"] if m["variant"] == "python_threads"]
        for variant, executor in (("joblib_processes", "processes"), ("python_interpreters", "interpreters")):
            run["measurements"] += [
                m | {"variant": variant, "function": variant, "executor": executor} for m in threads
            ]
    costs = record["environment"]["executor_costs"]
    for key in ("per_task_s", "startup_s"):
        costs[key]["interpreters"] = 2 * costs[key]["threads"]
    (site / "results" / "ways.json").write_text(json.dumps(record))
    return "results/ways.json"


def _table_rows(text):
    return [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in text.splitlines()
        if line.startswith("| ")
    ]


def test_an_executors_block_sets_four_ways_for_pure_python_side_by_side(site, slower, four_ways):
    page = _page(site, f"<!-- render: executors {four_ways} {slower} -->\n<!-- /render -->\n")
    assert render.main(["--root", str(site), str(page)]) == 0
    text = page.read_text()
    heading, *rows = _table_rows(text)
    assert heading[:4] == ["pure Python on", "1 worker / serial", "start-up at 2 workers", "per task"]
    assert [row[0].split(",")[0] for row in rows] == [
        "threads",
        "processes (joblib on loky)",
        "subinterpreters",
        "free-threaded threads",
    ]
    threads, processes, interpreters, free_threaded = rows
    for copied in (processes, interpreters):  # the same rows, copied; their own costs
        assert copied[1:2] + copied[5:] == threads[1:2] + threads[5:]
    median = lambda cell: float(cell.split()[0])  # noqa: E731
    # every call of the "free-threaded" run took twice as long: over the GIL build's serial it shows
    assert median(free_threaded[1]) == pytest.approx(2 * median(threads[1]), rel=0.01)
    assert median(free_threaded[6]) == pytest.approx(median(threads[6]) / 2, abs=0.01)  # two decimals
    assert free_threaded[5] == threads[5]  # its own efficiency is unchanged
    assert "Over the 1 recipes that timed all four (good_recipe)" in text
    assert render.main(["--root", str(site), "--check", str(page)]) == 0


def test_an_executors_block_wants_a_gil_run_then_a_free_threaded_one_with_costs(
    site, slower, four_ways, capsys
):
    page = _page(site, f"<!-- render: executors {slower} {four_ways} -->\n<!-- /render -->\n")
    assert render.main(["--root", str(site), str(page)]) == 2
    assert (
        "executors takes a GIL build's results file, then a free-threaded build's" in capsys.readouterr().err
    )
    page = _page(site, f"<!-- render: executors {four_ways} {four_ways} -->\n<!-- /render -->\n")
    assert render.main(["--root", str(site), str(page)]) == 2
    record = json.loads((site / four_ways).read_text())
    del record["environment"]["executor_costs"]
    (site / "results" / "costless.json").write_text(json.dumps(record))
    capsys.readouterr()
    page = _page(site, f"<!-- render: executors results/costless.json {slower} -->\n<!-- /render -->\n")
    assert render.main(["--root", str(site), str(page)]) == 2
    assert "results/costless.json: no costs measured for threads at 2 workers" in capsys.readouterr().err


def test_a_peer_block_sets_a_peers_timings_as_speedups_beside_ours(site, slower, four_ways):
    peer = {
        "name": "a peer",
        "source": "Source: its notebook.",
        "machine": "8 cores",
        "python": "CPython 3.13t",
        "free_threaded": True,
        "recipe": "good_recipe",
        "workers": 2,
        "serial_s": 10.0,
        "seconds": {"python_threads": 5.0},
    }
    (site / "results" / "peers").mkdir(exist_ok=True)
    (site / "results" / "peers" / "peer.json").write_text(json.dumps(peer))
    block = f"peer {four_ways} {slower} results/peers/peer.json"
    page = _page(site, f"<!-- render: {block} -->\n<!-- /render -->\n")
    assert render.main(["--root", str(site), str(page)]) == 0
    text = page.read_text()
    rows = {row[0]: row for row in _table_rows(text)[1:]}
    free_threaded = next(label for label in rows if label.startswith("`python_threads`") and label[-1] == "t")
    assert rows[free_threaded][1] == "2.00 (5 s)"  # the peer's own serial over its own threads
    assert all(row[1] == "not measured" for label, row in rows.items() if label != free_threaded)
    assert "Serial took 10 s in a peer (CPython 3.13t, 8 cores), and " in text
