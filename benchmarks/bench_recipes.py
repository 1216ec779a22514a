"""asv benchmarks: every variant of every packaged recipe, at 1 worker and at the usable cores.

One class per recipe (``TimeCountdown``, ...), parametrized by variant and
worker count, as numpy's and scipy's asv suites are. Inputs are built in
``setup`` at the recipe's small size, and the warm-up calls are made there,
outside timing: they pay numba's compile, the process pool's start, and
CPython 3.11's specialisation of the kernel in every worker (about 8 calls).
The recipes are imported, never copied, and the harness (``cookbook``) is
not used at all.

Run from the repository root: ``asv machine --yes`` once, then
``asv run --python=same --quick`` (or without ``--quick`` for real timings).
"""

import importlib
import os
import pkgutil

import recipes

WARMUP_CALLS = 8
WORKERS = sorted(
    {1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1}
)


def _benchmark_class(name):
    """Build the asv class for the recipe ``recipes.<name>``."""
    module = importlib.import_module(f"recipes.{name}")

    class Benchmark:
        params = (list(module.VARIANTS), WORKERS)
        param_names = ("variant", "n_workers")
        timeout = 600

        def setup(self, variant, n_workers):
            # The recipe contract (docs/own-recipe.md): a name without an executor runs on one thread.
            if n_workers > 1 and "_" not in variant:
                raise NotImplementedError("a one-thread variant runs at 1 worker only")  # asv skips it
            self.data = module.make_input(module.SIZES["small"])
            self.variant = module.VARIANTS[variant]
            for _ in range(WARMUP_CALLS):
                self.variant(self.data, n_workers)

        def time_variant(self, variant, n_workers):
            self.variant(self.data, n_workers)

    class_name = "Time" + "".join(part.title() for part in name.split("_"))
    Benchmark.__name__ = Benchmark.__qualname__ = class_name
    Benchmark.__doc__ = (module.__doc__ or name).strip().splitlines()[0]
    return class_name, Benchmark


# asv finds classes by name in this module's namespace: one per packaged recipe.
for _info in pkgutil.iter_modules(recipes.__path__):
    if not _info.name.startswith("_"):
        _name, _class = _benchmark_class(_info.name)
        globals()[_name] = _class
