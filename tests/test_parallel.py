"""The parallel variants really run at once, and leave the GIL free where they say so.

Checks of behaviour, not of names (see cookbook.probes), so that a variant
that reaches its kernel another way (an alias, a wrapper, a kernel compiled
without ``nogil``, ``range`` for ``prange``) cannot pass:

- a variant whose hot loop leaves the GIL free (compiled ``nogil``, NumPy,
  SciPy) or that runs in processes must have two threads, or two worker
  processes, each busy for most of one 20 ms window at 2 workers: their CPU
  times add up to more than the window, which no sequence of calls fakes;
- a variant of Python code on threads cannot run at once under the GIL, so
  it must have two of its threads inside the recipe's code at one instant
  (its calling thread not counted);
- at 1 worker, a Python thread beside a GIL-free variant keeps running, and
  beside a GIL-bound one it stalls (``gil_probe``).

The ``FOOLS`` recipe holds variants that passed the checks this file had
before, each of which these checks now catch.
"""

import hashlib
import textwrap
import threading
from functools import partial

import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from cookbook import load as machine_load
from cookbook import probes
from cookbook.environment import gil_enabled, usable_cores
from cookbook.measure import GIL_READINGS, _inner_threads, run_recipe
from cookbook.options import MODES, RunOptions
from cookbook.recipe import kind_of, load, load_all
from cookbook.timing import shutdown_process_pool, time_call
from tests.conftest import one_of_each

pytestmark = [
    pytest.mark.skipif(not probes.probes_supported(), reason="needs per-thread CPU times from /proc"),
    pytest.mark.skipif(usable_cores() < 2, reason="two threads cannot run at once on one core"),
]

# Thread variants that hold the GIL: Python code (``python_*``), and these, for the lesson they teach.
HOLDS_THE_GIL = {
    ("quad_callback", "numba_threads"): "scipy's quad holds the GIL around its compiled callback"
}
RELEASES_THE_GIL = {("file_checksums", "python_threads"): "hashlib drops the GIL for blocks of 2 KiB or more"}
IN_BETWEEN = {  # the GIL probe's share is neither near 0 nor near 1: not asserted
    ("file_checksums", "python_threads_small_blocks"): "its reads drop the GIL and its hashing keeps it",
}
# Variants whose workers barely overlap, for the lesson they teach: two must still work in one window.
BARELY_OVERLAP = {
    ("heat_stencil", "numba_threads"): "a step's compiled work is short beside the pool's hand-off per step",
    ("heat_stencil", "joblib_processes"): "every step pickles the bands to the workers and back",
    ("heat_stencil", "memmap_processes"): "every step hands the bands to the workers and back",
    ("matmul_blas", "numpy_processes"): "pickling a 150x150 product's arrays costs more than the product",
    ("heat_stencil", "numpy_threads"): "NumPy holds the GIL between a step.s operations and hand-offs",
    ("heat_stencil", "numba_prange"): "a step's prange region is short, and its threads sleep between steps",
    ("mandelbrot", "numpy_threads"): "the GIL is held between ufunc calls, which shrink as pixels escape",
    ("stream_triad", "numpy_processes"): "pickling a chunk's arrays costs more than its triad",
    ("stream_triad", "joblib_processes"): "pickling a chunk's values back costs about what its triad does",
}
HELD = 0.5  # a GIL-bound variant holds the GIL at least this share of a call; a GIL-free one less
AT_ONCE = 1.3  # cores busy in one window: two threads side by side for at least 30% of it
CALL_S = 0.25  # a process variant's input grows until a call at 2 workers lasts this long
SHORT_CALL_S = 0.025  # and a GIL-free thread variant's, from the large size, until this long
WATCH_S = 0.15  # how long each probe watches a variant's calls
MAX_WATCHES = 12  # watches a check may take to find its quiet ones before it cannot tell

CASES = [
    (recipe.name, variant)
    for recipe in load_all()
    for variant in recipe.variants
    if kind_of(variant).executor != "one thread"
]


def in_processes(variant):
    return kind_of(variant).executor == "processes"


def on_interpreters(variant):
    return kind_of(variant).executor == "interpreters"


THREAD_CASES = [case for case in CASES if not in_processes(case[1]) and case not in IN_BETWEEN]


def holds_the_gil(recipe_name, variant):
    """Whether the variant's work holds the GIL (on a GIL build), by the lesson it teaches."""
    case = (recipe_name, variant)
    # Python code on threads; on interpreters each worker holds its own GIL, never the caller's
    python = (
        variant.startswith("python_") and on_interpreters(variant) is False and case not in RELEASES_THE_GIL
    )
    return (python or case in HOLDS_THE_GIL) and gil_enabled()


def _overlapped(seen, *, processes, barely):
    """Whether the probe saw two at once (or, for a variant that barely overlaps, two working)."""
    if barely:
        return (seen.children_working if processes else seen.threads_working) >= 2
    return (seen.peak_child_cores if processes else seen.peak_cores) >= AT_ONCE


_inputs = {}


def _input(recipe, size):
    if (recipe.name, size) not in _inputs:
        _inputs.clear()  # one input at a time: the large ones are hundreds of MB
        _inputs[(recipe.name, size)] = recipe.make_input(size)
    return _inputs[(recipe.name, size)]


def input_for(recipe, variant):
    """The input to probe a variant on.

    Python code on threads or interpreters gets the medium one (on the small one a task can
    end within its turn at the GIL: on 3.13, heat_stencil's 4-row bands were
    seen one at a time in every watch, and its 8 hand-offs per step left the
    GIL free a third of the time); GIL-free thread variants the large one, or
    up to 4 times larger until a call lasts ``SHORT_CALL_S``, so that their
    kernels outweigh the pool around them; process variants the smallest
    from ``small`` up on which a call lasts ``CALL_S``.
    """
    pure_python = holds_the_gil(recipe.name, variant) or on_interpreters(variant)
    if pure_python or (recipe.name, variant) in IN_BETWEEN:
        return _input(recipe, recipe.size_of("medium"))
    if in_processes(variant):
        return _grown(recipe, variant, recipe.sizes["small"], recipe.sizes["large"], CALL_S)
    return _grown(recipe, variant, recipe.sizes["large"], 4 * recipe.sizes["large"], SHORT_CALL_S)


_grown_sizes = {}


def _grown(recipe, variant, size, largest, call_s):
    """The input from ``size`` up, doubled, on which a call at 2 workers lasts ``call_s`` (or ``largest``).

    Found once per variant: its other tests take the same size.
    """
    key = (recipe.name, variant)
    if key in _grown_sizes:
        return _input(recipe, _grown_sizes[key])
    warm = False
    while True:
        data = _input(recipe, size)
        call = partial(recipe.variants[variant], data, 2)
        if not warm:
            call()  # JIT compile, pool start: once, a larger input of the same types needs neither
            warm = True
        if size * 2 > largest or time_call(call)[1] >= call_s:
            _grown_sizes[key] = size
            return data
        size *= 2


def until_quiet(watch, tries=3):
    """None once ``watch()`` sees no problem; its problem once ``tries`` watches on a quiet machine saw it.

    One watch that saw a variant at work in parallel (or leave the GIL free)
    is enough: no variant that does not can show it, while a busy moment can
    hide it from one that does. So a watch taken while other processes or
    the hypervisor held ``BUSY_CORES`` (``cookbook.load``) does not count
    against the variant; if too few of ``MAX_WATCHES`` were quiet, the test
    cannot tell, and is skipped, saying so.
    """
    quiet = 0
    for _ in range(MAX_WATCHES):
        before = machine_load.snapshot()
        problem = watch()
        busy = machine_load.busy_reason(machine_load.load_between(before, machine_load.snapshot()))
        if problem is None:
            return None
        quiet += busy is None
        if quiet >= tries:
            return problem
    pytest.skip(f"{MAX_WATCHES - quiet} of {MAX_WATCHES} watches were on a busy machine; the last: {busy}")


def parallel_problem(recipe, variant):
    """Why the variant did not run two at once at 2 workers in any watch (``until_quiet``), or None."""
    call = partial(recipe.variants[variant], input_for(recipe, variant), 2)
    return until_quiet(partial(_watch, recipe, variant, call))


def _watch(recipe, variant, call):
    barely = (recipe.name, variant) in BARELY_OVERLAP
    if in_processes(variant):
        seen = probes.concurrency_probe(call, min_s=WATCH_S)
        if _overlapped(seen, processes=True, barely=barely):
            return None
        return (
            f"{seen.children_working} worker processes worked, keeping {seen.peak_child_cores:.2f} cores busy"
        )
    # Threads that take turns at the GIL show only in their frames; interpreters' frames are their own,
    # out of its sight (and sys._current_frames() beside them aborts 3.14.7 with a GIL): CPU time tells.
    if holds_the_gil(recipe.name, variant) or (recipe.name, variant) in IN_BETWEEN:
        inside = probes.threads_inside(call, str(recipe.path), min_s=WATCH_S)
        return (
            None if inside >= 2 else f"at most {inside} of its threads were inside {recipe.path.name} at once"
        )
    # A GIL-free variant must show it in CPU time: two threads inside a wrapper may take turns at the GIL.
    seen = probes.concurrency_probe(call, min_s=WATCH_S)
    if _overlapped(seen, processes=False, barely=barely):
        return None
    return f"{seen.threads_working} threads worked, keeping {seen.peak_cores:.2f} cores busy"


def gil_problem(recipe, variant):
    """Why the GIL probe disagrees with what the variant should do, or None.

    Read as the harness reads it (``measure.GIL_READINGS`` readings, the lowest kept): a busy
    machine can only slow the probe's counting thread, so noise reads as the GIL held, never as
    free, and the lowest reading is the least disturbed. A variant that holds the GIL reads high
    in every reading; one that releases it reads low in one reading at least, and fails only
    when ``GIL_READINGS`` readings on a quiet machine read it held (``until_quiet``).
    """
    call = partial(recipe.variants[variant], input_for(recipe, variant), 1)
    holds = holds_the_gil(recipe.name, variant)

    def reading(readings):
        held = probes.gil_probe(call, min_s=WATCH_S, readings=readings).held
        return None if (held >= HELD) == holds else f"held the GIL {held:.0%} of the time"

    with threadpool_limits(limits=1, user_api="blas"):  # the probe's thread needs a core of its own
        if holds:  # noise only raises a reading: the lowest of a few cannot fail a variant that holds it
            return reading(GIL_READINGS)
        return until_quiet(partial(reading, 1), tries=GIL_READINGS)


def test_a_watch_on_a_busy_machine_never_counts_against_a_variant(monkeypatch):
    loads = iter([None] * 3 + ["busy machine: other processes took 1.0 cores"] * 100)
    monkeypatch.setattr(machine_load, "busy_reason", lambda load: next(loads))
    watches = []

    def failing_watch():
        watches.append(1)
        return "1 worker processes worked"

    assert until_quiet(failing_watch) == "1 worker processes worked" and len(watches) == 3  # all quiet
    watches.clear()
    with pytest.raises(pytest.skip.Exception, match=f"{MAX_WATCHES} of {MAX_WATCHES} watches were on a busy"):
        until_quiet(failing_watch)
    assert len(watches) == MAX_WATCHES
    assert until_quiet(lambda: None) is None  # one watch that saw it is enough, busy or not


@pytest.fixture(autouse=True)
def _fresh_workers():
    shutdown_process_pool()  # worker processes of an earlier test would count as this one's
    yield
    shutdown_process_pool()


def _of_each_kind(cases):
    """Each variant name once (and once more where it barely overlaps), each listed lesson: the rest sweep."""
    lessons = HOLDS_THE_GIL.keys() | RELEASES_THE_GIL.keys() | IN_BETWEEN.keys()
    return one_of_each(cases, lambda case: (case[1], case in BARELY_OVERLAP), keep=lessons)


# scope="module" groups a variant's tests together, so its input is built once for both.
@pytest.mark.parametrize(("name", "variant"), _of_each_kind(CASES), scope="module")
def test_variant_runs_two_at_once(name, variant):
    problem = parallel_problem(load(name), variant)
    assert problem is None, f"{name}.{variant} x2: {problem}"


@pytest.mark.skipif(not gil_enabled(), reason="no GIL to probe")
@pytest.mark.parametrize(("name", "variant"), _of_each_kind(THREAD_CASES), scope="module")
def test_variant_holds_or_drops_the_gil_as_it_should(name, variant):
    problem = gil_problem(load(name), variant)
    assert problem is None, f"{name}.{variant} x1: {problem}"


FOOLS = '''
    """Variants that look parallel by name and are not."""

    import threading
    from concurrent.futures import ThreadPoolExecutor

    import numba
    import numpy as np
    from joblib import Parallel, delayed

    SIZES = {"small": 4_000_000, "large": 4_000_000}
    N_TASKS = 8


    def make_input(size, seed=0):
        return np.array_split(np.random.default_rng(seed).random(size), N_TASKS)


    def total(chunk):
        value = 0.0
        for x in chunk:
            value += x * x
        return value


    total_numba = numba.njit(nogil=True)(total)
    add_up = total  # an alias of the kernel


    @numba.njit(nogil=True)
    def heavy(chunk):
        value = 0.0
        for _ in range(50):  # the same answer, more work: calls long enough to watch
            value = total_numba(chunk[:20_000])
        return value


    @numba.njit  # without nogil
    def heavy_keeping_the_gil(chunk):
        value = 0.0
        for _ in range(50):
            value = total_numba(chunk[:20_000])
        return value


    def serial(chunks, n_workers):
        return sum(total(c[:20_000].tolist()) for c in chunks)


    def python_threads(chunks, n_workers):  # a serial loop through an alias
        return sum(add_up(c[:20_000].tolist()) for c in chunks)


    def python_threads_target_called(chunks, n_workers):  # Thread(target=work(args)): work runs here
        results = []
        threads = [threading.Thread(target=results.append(add_up(c[:20_000].tolist()))) for c in chunks]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return sum(results)


    def _wrapped(chunk):
        return heavy_keeping_the_gil(chunk)


    def numba_threads(chunks, n_workers):  # threads, but the kernel keeps the GIL
        with ThreadPoolExecutor(n_workers) as pool:
            return sum(pool.map(_wrapped, chunks))


    @numba.njit(parallel=True)
    def _range_not_prange(chunks_2d, out):
        for i in range(chunks_2d.shape[0]):  # range where prange was meant
            out[i] = heavy(chunks_2d[i])
        return out.sum()


    def numba_prange(chunks, n_workers):
        numba.set_num_threads(n_workers)
        rows = np.stack([c[:20_000] for c in chunks])  # equal rows for a 2-D array
        return _range_not_prange(rows, np.empty(len(chunks)))


    def numba_threads_one_at_a_time(chunks, n_workers):  # a thread per chunk, each joined at once
        results = []
        for c in chunks:
            t = threading.Thread(target=lambda c=c: results.append(heavy(c)))
            t.start()
            t.join()
        return sum(results)


    def joblib_processes(chunks, n_workers):  # n_jobs fixed at 1: no worker process at all
        return sum(Parallel(n_jobs=1)(delayed(total)(c[:20_000].tolist()) for c in chunks))


    VARIANTS = {
        "serial": serial,
        "python_threads": python_threads,
        "python_threads_target_called": python_threads_target_called,
        "numba_threads": numba_threads,
        "numba_prange": numba_prange,
        "numba_threads_one_at_a_time": numba_threads_one_at_a_time,
        "joblib_processes": joblib_processes,
    }
'''


@pytest.fixture(scope="module")
def fools(tmp_path_factory):
    path = tmp_path_factory.mktemp("fools") / "fooling_recipe.py"
    path.write_text(textwrap.dedent(FOOLS))
    return load(str(path))


@pytest.mark.parametrize(
    "variant",
    [
        "python_threads",
        "python_threads_target_called",
        "numba_threads",
        "numba_prange",
        "numba_threads_one_at_a_time",
        "joblib_processes",
    ],
)
def test_a_variant_parallel_in_name_only_is_caught(fools, variant):
    data = fools.make_input(fools.sizes["small"])
    assert fools.variants[variant](data, 2) == pytest.approx(fools.variants["serial"](data, 1))
    problems = [parallel_problem(fools, variant)]
    if gil_enabled() and not in_processes(variant):
        problems.append(gil_problem(fools, variant))
    assert any(problems), f"{variant} passed every check"


@pytest.mark.skipif(not gil_enabled(), reason="no GIL to probe")
def test_the_report_records_the_gil_held_by_each_one_worker_thread_step(fools):
    options = RunOptions(size="small", workers=(1, 2), sampling=MODES["quick"])
    run = run_recipe(fools, options)
    by_step = {(m.variant, m.workers): m for m in run.measurements}
    assert by_step[("serial", 1)].gil_held >= HELD  # Python code: nearly all
    assert by_step[("numba_threads", 1)].gil_held >= HELD  # compiled without nogil
    assert by_step[("numba_threads_one_at_a_time", 1)].gil_held < HELD  # nogil
    assert by_step[("numba_threads", 2)].gil_held is None  # probed at 1 worker only
    assert by_step[("joblib_processes", 1)].gil_held is None  # one GIL per process: not probed
    assert by_step[("joblib_processes", 1)].in_caller  # joblib ran n_jobs=1 in this process
    assert not by_step[("numba_threads", 1)].in_caller


def test_threads_that_take_every_core_without_the_gil_do_not_read_as_holding_it():
    """The probe's thread then waits for a core, not for the GIL: its run-queue wait is taken out."""
    block = bytes(32 * 2**20)  # hashlib lets go of the GIL for blocks this large

    def call():
        threads = [threading.Thread(target=hashlib.sha256, args=(block,)) for _ in range(2 * usable_cores())]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def reading():
        held = probes.gil_probe(call, min_s=0.1).held
        return None if held < HELD / 5 else f"held the GIL {held:.0%} of the time"

    # As the harness reads it, the lowest of GIL_READINGS; the hypervisor's steal can raise every reading
    # of a watch, so only readings taken on a quiet machine count against the probe.
    assert until_quiet(reading, tries=GIL_READINGS) is None


def test_a_process_variant_that_starts_workers_is_not_in_the_caller():
    recipe = load("countdown")
    run = run_recipe(
        recipe, RunOptions(size="small", workers=(1, 2), variants=("joblib_processes",), check_only=True)
    )
    by_workers = {m.workers: m for m in run.measurements if m.variant == "joblib_processes"}
    assert by_workers[1].in_caller and not by_workers[2].in_caller


def _pools(user_api):
    return {f"{p['internal_api']} ({p['prefix']})" for p in threadpool_info() if p["user_api"] == user_api}


def test_the_inner_blas_limit_holds_in_a_thread_the_variant_starts():
    with _inner_threads(1):
        seen = probes.pools_limited_in_a_new_thread(1)
    assert _pools("blas") and set(seen) == _pools("blas")


def test_an_openmp_limit_set_here_does_not_reach_a_new_thread_so_it_is_not_claimed():
    mandelbrot = load("mandelbrot")
    mandelbrot.variants["numba_prange"](
        mandelbrot.make_input(mandelbrot.sizes["small"]), 2
    )  # numba's runtime
    if not _pools("openmp"):
        pytest.skip("no OpenMP runtime loaded")
    with threadpool_limits(limits=1, user_api="openmp"):
        seen = probes.pools_limited_in_a_new_thread(1)
    defaults = [p for p in threadpool_info() if p["user_api"] == "openmp" and p["num_threads"] > 1]
    if not defaults:
        pytest.skip("the OpenMP runtime's default is one thread: a limit of 1 cannot be told apart")
    assert not set(seen) & _pools("openmp"), seen


def test_of_several_gil_readings_the_lowest_is_kept_as_noise_only_raises_a_reading(monkeypatch):
    shares = iter([0.6, 0.05, 0.4])
    monkeypatch.setattr(probes, "_stalled_share", lambda call, min_s: probes._Stalls(next(shares), 0.1))
    assert probes.gil_probe(lambda: None, readings=3).held == 0.05
