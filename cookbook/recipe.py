"""Find recipes, import them, and check that they follow the recipe contract.

A recipe is a module with ``SIZES``, ``make_input`` and ``VARIANTS`` (see
docs/own-recipe.md). Packaged recipes live in the ``recipes`` package; any
other file is loaded by path.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import inspect
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

from cookbook.agreement import compare
from cookbook.environment import free_threaded_build, watching_gil

__all__ = [
    "CORE_VARIANTS",
    "Executor",
    "Kind",
    "MissingPackage",
    "Recipe",
    "RecipeError",
    "import_file",
    "kind_of",
    "load",
    "load_all",
    "packaged_names",
    "reproducibility_problem",
    "too_small",
]

CORE_VARIANTS = ("serial", "python_threads", "numpy_threads", "numba_threads", "joblib_processes")
REQUIRED = ("SIZES", "make_input", "VARIANTS")

Variant = Callable[[Any, int], Any]
Executor = Literal["one thread", "threads", "interpreters", "processes"]


@dataclass(frozen=True)
class Kind:
    """What runs a variant's work, as its name declares it (``<engine>_<executor>``).

    - a name without an executor (``serial``, ``numpy``, ``numba``) runs on
      one thread, once, at one worker;
    - ``*_processes`` runs its joblib calls in worker processes, on the
      backends asked for (loky, dask);
    - ``*_interpreters`` runs on threads of this process, each in an
      interpreter of its own with its own GIL (Python 3.14's
      ``InterpreterPoolExecutor``);
    - any other executor runs on threads (``python_threads``, ``numba_prange``,
      ``scipy_workers``); a plain ``*_threads`` variant's threads get the BLAS
      pools limited to ``cores // workers`` each, as joblib limits its worker
      processes' (``numpy_threads_oversubscribed`` keeps the default, for its lesson).
    """

    executor: Executor
    limits_inner_pools: bool = False


def kind_of(variant: str) -> Kind:
    """The kind a recipe's variant name declares: read here, and nowhere else."""
    if "_" not in variant:
        return Kind("one thread")
    if variant.endswith("_processes"):
        return Kind("processes")
    if variant.endswith("_interpreters"):
        return Kind("interpreters")
    return Kind("threads", limits_inner_pools=variant.endswith("_threads"))


class RecipeError(Exception):
    """A recipe cannot be found or imported, or breaks the contract."""


class MissingPackage(RecipeError):
    """A recipe imports a package this Python does not have: it is skipped, with the reason."""


@dataclass(frozen=True)
class Recipe:
    """A recipe module, checked against the contract."""

    name: str
    path: Path
    sizes: dict[str, int]
    make_input: Callable[..., Any]
    variants: dict[str, Variant]
    not_applicable: dict[str, str]
    rtol: float
    atol: float
    summary: str
    bytes_moved: Callable[[int], int] | None = None  # optional: memory a call reads and writes
    memory_bytes: Callable[[int], int] | None = None  # optional: peak memory a run at a size needs
    min_size: int = 1  # the smallest size make_input accepts
    tasks: int | None = None  # how many tasks the parallel variants split the work into, if fixed
    kinds: dict[str, Kind] = field(default_factory=dict)  # each variant's; read from the names if not given

    def kind(self, variant: str) -> Kind:
        """The variant's kind: as declared, or as its name says."""
        return self.kinds.get(variant) or kind_of(variant)

    @property
    def packaged(self) -> bool:
        """Whether it is one of this package's recipes (tested), not a user's file."""
        return self.path.parent == _packaged_dir()

    def size_label(self, size: str | int | None) -> str:
        """The label of a size: None (the timing default) and ``medium`` mean medium, or large without one."""
        if size is None or size == "medium":
            return "medium" if "medium" in self.sizes else "large"
        return str(size)

    def size_of(self, size: str | int | None) -> int:
        """Return the recipe's size for a label (``small``, ``medium``, ``large``), a number, or None."""
        if isinstance(size, int):
            return size
        return self.sizes[self.size_label(size)]


def _packaged_dir() -> Path:
    import recipes

    return Path(recipes.__file__).parent


def packaged_names() -> list[str]:
    """Return the names of the packaged recipes, sorted."""
    return sorted(p.stem for p in _packaged_dir().glob("*.py") if not p.stem.startswith("_"))


def load_all() -> list[Recipe]:
    """Import and check every packaged recipe."""
    return [load(name) for name in packaged_names()]


def load(target: str) -> Recipe:
    """Load a recipe by packaged name or by path to a ``.py`` file."""
    if target.endswith(".py") or "/" in target or "\\" in target:
        return _load_path(Path(target))
    names = packaged_names()
    if target not in names:
        close = difflib.get_close_matches(target, names, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise RecipeError(
            f"unknown recipe '{target}' (valid: all, list, {', '.join(names)}, "
            f"or a path to a recipe file){hint}"
        )
    return _from_module(_import(f"recipes.{target}", _packaged_dir() / f"{target}.py"))


def _load_path(path: Path) -> Recipe:
    if not path.is_file():
        raise RecipeError(f"{path}: no such file")
    if path.suffix != ".py":
        raise RecipeError(f"{path}: not a Python file (a recipe is a .py file)")
    path = path.resolve()
    if path.parent == _packaged_dir():
        return load(path.stem)
    return _from_module((import_file(path), path))


def import_file(path: Path) -> ModuleType:
    """Import the Python file ``path`` as the module named by its stem, or RecipeError in one line.

    Worker processes (loky's) import it by that name to unpickle its functions,
    and new workers start with this process's sys.path: so its folder goes on
    it, appended, not prepended, so that the file can never shadow a real module.
    """
    path = path.resolve()
    name = path.stem
    if not name.isidentifier():
        raise RecipeError(f"{path}: '{name}' is not a valid module name; rename the file")
    if str(path.parent) not in sys.path:
        sys.path.append(str(path.parent))
    importlib.invalidate_caches()  # the file may be newer than the finder's listing
    spec = importlib.util.find_spec(name) if name not in sys.modules else None
    existing = sys.modules.get(name)
    origin = spec.origin if spec else getattr(existing, "__file__", None)
    if origin is None or Path(origin).resolve() != path:
        raise RecipeError(
            f"{path}: its name '{name}' is already taken by the module {origin or name}; rename the file"
        )
    return _import(name, path)[0]


def _import(module_name: str, path: Path) -> tuple[ModuleType, Path]:
    try:
        with watching_gil():
            return importlib.import_module(module_name), path
    except ModuleNotFoundError as error:
        package = (error.name or "").partition(".")[0]
        mine = (module_name.partition(".")[0], path.stem)
        if package and package not in mine and importlib.util.find_spec(package) is None:
            python = ".".join(map(str, sys.version_info[:2])) + ("t" if free_threaded_build() else "")
            raise MissingPackage(
                f"{path}: skipped: it needs {package}, which this Python ({python}) does not have"
            ) from error
        raise RecipeError(f"{path}: cannot import it: {type(error).__name__}: {error}") from error
    except Exception as error:  # the recipe's own code failed: say so, briefly
        raise RecipeError(f"{path}: cannot import it: {type(error).__name__}: {error}") from error


def _from_module(loaded: tuple[ModuleType, Path]) -> Recipe:
    module, path = loaded
    missing = [attr for attr in REQUIRED if not hasattr(module, attr)]
    if missing:
        raise RecipeError(f"{path}: not a recipe: it has no {', '.join(missing)} (see docs/own-recipe.md)")
    sizes, variants = module.SIZES, module.VARIANTS
    problems = []
    if not (isinstance(sizes, dict) and {"small", "large"} <= sizes.keys()):
        problems.append("SIZES must be a dict with 'small' and 'large'")
    elif not all(isinstance(v, int) and v > 0 for v in sizes.values()):
        problems.append("SIZES values must be positive integers")
    if not callable(module.make_input):
        problems.append("make_input must be a function")
    if not (isinstance(variants, dict) and variants and next(iter(variants)) == "serial"):
        problems.append("VARIANTS must be a dict whose first entry is 'serial'")
    elif not all(callable(v) for v in variants.values()):
        problems.append("every VARIANTS value must be a function (data, n_workers)")
    not_applicable = getattr(module, "NOT_APPLICABLE", {})
    if not (isinstance(not_applicable, dict) and all(isinstance(v, str) for v in not_applicable.values())):
        problems.append("NOT_APPLICABLE must map variant names to reasons")
    rtol, atol = getattr(module, "RTOL", 0.0), getattr(module, "ATOL", 0.0)
    if not all(isinstance(t, (int, float)) and t >= 0 for t in (rtol, atol)):
        problems.append("RTOL and ATOL must be numbers >= 0")
    min_size, tasks = getattr(module, "MIN_SIZE", 1), getattr(module, "N_TASKS", None)
    if not (isinstance(min_size, int) and min_size >= 1):
        problems.append("MIN_SIZE must be an integer >= 1")
    elif isinstance(sizes, dict) and min_size > sizes.get("small", min_size):
        problems.append(f"MIN_SIZE ({min_size}) is above SIZES['small']")
    if tasks is not None and not (isinstance(tasks, int) and tasks >= 1):
        problems.append("N_TASKS must be an integer >= 1")
    bytes_moved = getattr(module, "bytes_moved", None)
    memory_bytes = getattr(module, "memory_bytes", None)
    for hook_name, hook in (("bytes_moved", bytes_moved), ("memory_bytes", memory_bytes)):
        if hook is not None and not callable(hook):
            problems.append(f"{hook_name} must be a function of the size")
    if problems:
        raise RecipeError(f"{path}: {'; '.join(problems)}")
    doc = (module.__doc__ or "").strip()
    return Recipe(
        name=module.__name__.rpartition(".")[2],
        path=path,
        sizes=dict(sizes),
        make_input=module.make_input,
        variants=dict(variants),
        not_applicable=dict(not_applicable),
        rtol=float(rtol),
        atol=float(atol),
        summary=doc.splitlines()[0] if doc else "",
        bytes_moved=bytes_moved,
        memory_bytes=memory_bytes,
        min_size=min_size,
        tasks=tasks,
    )


def too_small(recipe: Recipe, size: str | int | None) -> str | None:
    """Why ``size`` is below what the recipe can split, or None when it is not."""
    n = recipe.size_of(size)
    if n >= recipe.min_size:
        return None
    return f"--size {n} is below {recipe.name}'s smallest size, {recipe.min_size} (its MIN_SIZE)"


def seed_problem(recipe: Recipe) -> str | None:
    """Why ``make_input`` cannot be given a seed, or None when it can (read off its signature)."""
    if "seed" in inspect.signature(recipe.make_input).parameters:
        return None
    return f"{recipe.name}: make_input takes no seed: write it make_input(size, seed=0)"


def reproducibility_problem(recipe: Recipe, size: int, reference: Any) -> str | None:
    """Why ``make_input`` is not reproducible, or None: a second input, one seed, one serial answer.

    The packaged recipes are tested for it; a user's recipe is checked on
    every run (one more untimed call of ``serial``, in the process and under
    the timeout that measure it), since a run whose input changes from call
    to call cannot be compared with another run.
    """
    try:
        again = recipe.variants["serial"](recipe.make_input(size), 1)
    except Exception:  # serial already ran once: a failure now is not the input's
        return None
    if compare(reference, again, rtol=recipe.rtol, atol=recipe.atol).ok:
        return None
    return (
        f"{recipe.name}: make_input(size, seed=0) is not reproducible: two calls gave two serial "
        "answers; build the input from np.random.default_rng(seed), so that two runs can be compared"
    )
