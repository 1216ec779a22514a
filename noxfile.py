"""The test suite on every Python this project supports: ``nox`` (all found) or ``nox -s tests-3.12``.

An interpreter that is not installed is skipped, not failed. With pyenv, make
its versions visible first, e.g. ``PYENV_VERSION=3.11.7:3.10.13:3.12.1:3.13.0 nox``;
``scripts/build-free-threaded-python.sh`` builds the free-threaded 3.14t
(put its ``bin`` folder on PATH).
"""

import nox

nox.options.error_on_missing_interpreters = False
nox.options.reuse_existing_virtualenvs = True

PYTHONS = ["3.10", "3.11", "3.12", "3.13", "3.14t"]


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """Install the package with its test extra and run pytest (arguments after -- go to pytest)."""
    session.install("-e", ".[test]")
    session.run(
        "python",
        "-c",
        "import sys, sysconfig; print(sys.version, sysconfig.get_config_var('Py_GIL_DISABLED'))",
    )
    session.run("pytest", *session.posargs)
