"""``%advise``: ``cookbook.advise`` on a kernel and chunks defined in a notebook.

``%load_ext cookbook`` registers it; then, in a cell::

    %advise kernel chunks
    %advise kernel make_chunks() --quick --workers 1,2

KERNEL and CHUNKS are Python expressions, evaluated in the notebook's namespace, and so
is ``--combine``; an expression with spaces goes in brackets:
``%advise kernel ([2000] * 4)``. The other options are ``python -m cookbook.advise``'s,
but for ``--json`` and ``--markdown``. It shows progress on stderr and returns the
:class:`~cookbook.advice.Advice`, which displays as Markdown; a mistake prints one line,
``%advise: error: ...``, and returns None.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

from IPython.core.interactiveshell import InteractiveShell
from IPython.core.magic import no_var_expand

from cookbook import backends, cli
from cookbook.advice import Advice
from cookbook.advise import AdviceError, advise
from cookbook.recipe import RecipeError

__all__ = ["advise_line", "load_ipython_extension", "split_line"]

PROG = "%advise"


def load_ipython_extension(ipython: InteractiveShell) -> None:
    """Register the line magic ``%advise`` in ``ipython``: what ``%load_ext cookbook`` calls."""

    @no_var_expand  # the line is Python: {} and $ in it are the user's, not IPython's
    def advise_magic(line: str) -> Advice | None:
        return advise_line(line, ipython.user_ns)

    advise_magic.__doc__ = _parser().format_help()  # what %advise? shows
    # What ipython.register_magic_function does; that method's type hints take it for an unbound one.
    ipython.magics_manager.register_function(advise_magic, "line", "advise")


def advise_line(line: str, namespace: dict[str, Any]) -> Advice | None:
    """Run ``%advise LINE`` in ``namespace``: the Advice, or None after one line on stderr."""
    started = time.monotonic()
    try:
        args = _parser().parse_args(split_line(line))
        backends.check(args.backend, args.scheduler)
        kernel = _function(args.kernel, namespace, "the kernel, called as kernel(chunk)")
        chunks = _chunks(args.chunks, namespace)
        combine = _function(args.combine, namespace, "a reducer") if args.combine else None
        advice = advise(
            kernel,
            chunks,
            combine=combine,
            options=cli.advise_options(args),
            rtol=args.rtol,
            atol=args.atol,
            progress=True,
            command=f"{PROG} {line.strip()}",
        )
    except (cli.UsageError, AdviceError, RecipeError, backends.BackendError) as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return None
    except SystemExit:  # --help has printed the options
        return None
    cli.finish(advice.session, started)
    return advice


def split_line(line: str) -> list[str]:
    """The line's words, split at spaces outside brackets and quotes: ``f(a, b) d['a b']`` is two."""
    words, word, depth, quote, escaped = [], "", 0, "", False
    for char in line:
        if quote:  # inside a string: only its closing quote counts
            if not escaped and char == quote:
                quote = ""
            escaped = char == "\\" and not escaped
        elif char in "'\"":
            quote = char
        elif char.isspace() and depth == 0:
            if word:
                words.append(word)
            word = ""
            continue
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth < 0:
                raise cli.UsageError(f"a closing {char} without its opening one in: {line.strip()}")
        word += char
    if quote or depth:
        raise cli.UsageError(f"an unclosed {quote or 'bracket'} in: {line.strip()}")
    return [*words, word] if word else words


def _parser() -> cli.Parser:
    parser = cli.Parser(
        prog=PROG,
        description="Measure the ladder of variants for a kernel over its chunks, and say which one pays.",
        epilog="KERNEL, CHUNKS and --combine are Python expressions in the notebook's namespace; put one "
        "with spaces in brackets. It returns the advice (None after a mistake, said in one line).",
    )
    parser.add_argument("kernel", metavar="KERNEL", help="the kernel, called as kernel(chunk)")
    parser.add_argument("chunks", metavar="CHUNKS", help="the chunks: a list, or anything list() takes")
    parser.add_argument("--combine", metavar="FUNCTION", help="a function reducing the list of results")
    cli.add_advise_arguments(parser)
    return parser


def _evaluate(expression: str, namespace: dict[str, Any]) -> Any:
    try:
        return eval(expression, namespace)  # the user's own expression, in the user's own namespace
    except Exception as error:
        raise cli.UsageError(f"{expression}: {type(error).__name__}: {error}") from None


def _function(expression: str, namespace: dict[str, Any], what: str) -> Callable[..., Any]:
    value = _evaluate(expression, namespace)
    if not callable(value):
        raise cli.UsageError(f"{expression}: a {type(value).__name__}, not a function (it should be {what})")
    return value  # type: ignore[no-any-return]


def _chunks(expression: str, namespace: dict[str, Any]) -> list[Any]:
    value = _evaluate(expression, namespace)
    try:
        return list(value)
    except Exception as error:
        raise cli.UsageError(f"{expression}: list() of it fails: {type(error).__name__}: {error}") from None
