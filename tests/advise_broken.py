"""A module that fails to import, for the tests of python -m cookbook.advise."""

raise RuntimeError("this module is broken on purpose")
