"""``%load_ext cookbook`` and ``%advise``, in a real IPython shell, on a kernel defined in its cells."""

import subprocess
import sys

import pytest

pytest.importorskip("IPython")

from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config

from cookbook.advice import Advice
from cookbook.magic import split_line

NOTEBOOK = """
def python_loop(n):
    total = 0
    for k in range(n):
        total = (total * 31 + k) % 1_000_003
    return total

chunks = [2000] * 4
"""


def failures(advice):
    return [(m.variant, m.workers, m.status, m.detail) for m in advice.run.measurements if m.status != "OK"]


@pytest.fixture(scope="module")
def shell(tmp_path_factory):
    """An IPython shell with the extension loaded and ``python_loop`` defined in a cell, as in a notebook."""
    saved = sys.modules["__main__"], sys.displayhook, sys.excepthook  # a shell takes __main__ over
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("IPYTHONDIR", str(tmp_path_factory.mktemp("ipython")))
        config = Config()
        config.HistoryManager.hist_file = ":memory:"
        shell = InteractiveShell.instance(config=config)
        try:
            shell.run_line_magic("load_ext", "cookbook")
            shell.run_cell(NOTEBOOK).raise_error()
            yield shell
        finally:
            InteractiveShell.clear_instance()
            sys.modules["__main__"], sys.displayhook, sys.excepthook = saved


def test_a_cell_checks_a_kernel_defined_in_the_notebook(shell):
    line = "python_loop ([2000] * 4) --check-only --workers 1,2"  # spaces, in brackets
    shell.run_cell(f"checked = %advise {line}").raise_error()
    advice = shell.user_ns["checked"]
    assert isinstance(advice, Advice)
    assert advice.name == "python_loop"
    assert advice.run.ok, failures(advice)
    assert advice.session.options["check_only"] is True
    assert advice.session.options["workers"] == (1, 2)
    assert advice.session.environment["command"] == f"%advise {line}"


def test_a_timed_advice_displays_as_markdown_with_its_recommendation(shell):
    advice = shell.run_line_magic("advise", "python_loop chunks --quick --workers 1,2")
    assert isinstance(advice, Advice)
    assert advice.run.ok, failures(advice)
    assert advice.session.options["sampling"]["mode"] == "quick"
    shown, _ = shell.display_formatter.format(advice)
    assert advice.recommendation in shown["text/markdown"]
    assert shown["text/markdown"] == advice.to_markdown()


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ("python_loop chunks --bogus", "unrecognized arguments: --bogus"),
        ("python_lop chunks", "python_lop: NameError: name 'python_lop' is not defined"),
        ("python_loop chunks --rtol x", "argument --rtol: 'x' is not a number"),
        ("chunks chunks", "chunks: a list, not a function"),
        ("python_loop 3", "3: list() of it fails: TypeError"),
        ("python_loop chunks[ --quick", "an unclosed bracket"),
        ("python_loop []", "no chunks"),  # advise's own AdviceError
        ("python_loop ['a']", "python_loop raised on"),  # the kernel's own TypeError
    ],
)
def test_a_mistake_prints_one_line_and_returns_none(shell, capsys, line, said):
    assert shell.run_line_magic("advise", line) is None
    err = capsys.readouterr().err  # progress lines may come before the error, for a kernel that raises
    errors = [line for line in err.splitlines() if line.startswith("%advise: error: ")]
    assert len(errors) == 1, err
    assert said in errors[0]
    assert "Traceback" not in err


def test_help_prints_the_options_and_returns_none(shell, capsys):
    assert shell.run_line_magic("advise", "--help") is None
    out = capsys.readouterr().out
    assert "KERNEL CHUNKS" in out
    assert "--check-only" in out
    assert "--workers" in out


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("kernel chunks", ["kernel", "chunks"]),
        ("  f  make(n=8, seed=1)  --quick ", ["f", "make(n=8, seed=1)", "--quick"]),
        ("f d['a b'] --workers 1,2", ["f", "d['a b']", "--workers", "1,2"]),
        ('f "it\'s (" ([1] * 4)', ["f", '"it\'s ("', "([1] * 4)"]),
        ("f {1: [2, (3, 4)]}", ["f", "{1: [2, (3, 4)]}"]),
        ("", []),
    ],
)
def test_split_line_keeps_brackets_and_strings_whole(line, words):
    assert split_line(line) == words


def test_importing_the_cookbook_does_not_import_ipython():
    code = "import sys, cookbook; assert 'IPython' not in sys.modules, 'IPython imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
