"""Integrate one parametrized integrand per parameter with scipy's quad: a Python-callback lesson.

Workload
--------
For each of ``size`` parameters p drawn uniformly from [0, P_MAX], the
integral of ``exp(p * (cos t - 1)) / pi`` over t in [0, pi]. It has a closed
form, ``scipy.special.i0e(p)`` (the exponentially scaled modified Bessel
function of order 0), which the ``__main__`` block checks. The result is the
float array of integrals. ``scipy.integrate.quad`` (QUADPACK's adaptive
Gauss-Kronrod QAGS) calls the integrand 21 to 147 times per integral (147
for most), more as p grows and the peak at t = 0 narrows; each call goes
from C back into Python. quad is asked for a relative error of ``EPSREL``
and no absolute one (``epsabs=0``): with its default ``epsabs`` of 1.49e-8
it stopped at a relative error of 5e-9 on integrals near 0.04 (p near 85),
where an absolute 1.49e-8 is a relative 4e-7. The work is CPU-bound:
interpreter calls and quad's own Python-level set-up, no memory traffic. The
parameters are cut into ``N_CHUNKS`` chunks fixed by the workload.

quad never releases the GIL. Checked for scipy 1.17.1: its ``_quadpack``
extension imports neither ``PyEval_SaveThread`` nor ``PyEval_RestoreThread``
(what ``Py_BEGIN_ALLOW_THREADS`` expands to; ``nm -D`` on the ``.so``),
scipy's wrapper (``scipy/integrate/__quadpack.h`` on GitHub) calls every
QUADPACK routine without ``Py_BEGIN_ALLOW_THREADS``, and a Python thread
counting in the background stalled for the whole of each ``quad`` call given
a compiled ``LowLevelCallable``. With a Python integrand the GIL changes
hands only between the integrand's bytecodes. So no quad-based variant
scales on threads; to scale on threads the whole integration has to run
outside the GIL, which here only the fixed-rule NumPy variants do.

What the GIL does to each variant
---------------------------------
serial: ``quad`` of the Python integrand, p passed through ``args``, one
parameter after another; the reference.

python_threads: the chunks on a thread pool. Each integrand call is
bytecode and quad's C code around it holds the GIL: no speedup.

numba: the same integrand source compiled with ``numba.njit`` and wrapped in
a ``numba.cfunc`` of signature ``float64(intc, CPointer(float64))``, handed
to quad as a ``scipy.LowLevelCallable``: quad passes x, then the ``args``, in
the array, so p arrives as ``xx[1]``. The same QUADPACK run with no Python
call per evaluation; the integrals come out identical to serial's. What
remains is quad's Python wrapper and its C loop, on one thread.

numba_threads: the same ``LowLevelCallable`` on a thread pool. No speedup:
the callback is compiled, but quad holds the GIL for the whole integration
(see above), so the threads take turns. Compiling the callback removes
Python from inside the loop, not the GIL from around it.

numpy: each chunk integrated with a fixed ``N_NODES``-point Gauss-Legendre
rule as whole arrays: a (chunk x nodes) array of integrand values and one
weighted sum per row, on one thread. Not adaptive: it is right only because
this integrand is smooth (entire in t) and p is bounded. Against
``scipy.special.i0e``, the 64-point rule was within 2e-14 for p up to 200;
the 32-point rule was off by 1.4e-9 for p up to 100 and by 2.4e-7 for p up
to 200. A fixed rule loses accuracy silently, where quad subdivides or
warns.

numpy_threads: the fixed rule on a thread pool. Each ufunc call over a
chunk's (chunk x nodes) values releases the GIL, so the chunks run at once.

joblib_processes: quad of the Python integrand in loky worker processes, one
GIL each, so the chunks run at once; only parameters and integrals cross
between processes.

python_interpreters: does not apply on any Python: its integrator is SciPy's
quad, and SciPy cannot be loaded in a subinterpreter (InterpreterPoolExecutor
sends a function that reads no global as its code, any other by name).

Measured
--------
Every variant's figures, with their 95% intervals and a plot: ``docs/recipes/quad_callback.md``,
rendered from the committed runs in ``results/``.

Free-threaded Python 3.14t
--------------------------
On a free-threaded build (3.14t) python_threads runs without a GIL, and scales fully only if its
threads share no object in the hot loop (docs/free-threaded.md). quad calls the integrand from C,
and each call writes the reference counts of the one shared function object and of math's functions
from both threads (scripts/free_threading/quad_probes.py). quad itself runs in parallel once the GIL
is gone: numba_threads, whose compiled callback is no Python object, scales better there than on a
GIL build. Its figures on 3.11, 3.14 and 3.14t: ``docs/recipes/quad_callback.md``.

Run it: ``python recipes/quad_callback.py``. ``python -m cookbook.run quad_callback`` times it at the
medium size, where each call is short enough that the thread and process pools'
per-call costs weigh on their efficiency; ``--size large`` shows how they scale.
"""

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from joblib import Parallel, delayed
from scipy import LowLevelCallable
from scipy.integrate import quad

try:
    import numba
except ImportError:  # numba has no wheels for some Pythons (none for 3.13t): its variants are skipped
    numba = None

SIZES = {"small": 2_000, "medium": 3_500, "large": 110_000}
MIN_SIZE = 1  # one integral; below N_CHUNKS some chunks are empty, which every variant handles
N_CHUNKS = 32  # fixed by the workload, more chunks than workers
N_TASKS = N_CHUNKS  # one task per chunk
P_MAX = 100.0
N_NODES = 64  # Gauss-Legendre nodes for the fixed rule
EPSREL = 1e-10  # quad's relative tolerance, passed with epsabs=0
# Only the fixed rule differs from serial: by at most 3.9e-14 relative at sizes
# small..large (measured 2026-12-02; quad and the rule were within 2.5e-14 of
# i0e). 5e-13 leaves a margin of 13 and still rejects a 40-node rule (7.5e-13).
RTOL = 5e-13


def gauss_legendre(n_nodes):
    """Return the nodes and weights of the ``n_nodes``-point Gauss-Legendre rule on [0, pi]."""
    x, w = np.polynomial.legendre.leggauss(n_nodes)
    return (x + 1.0) * math.pi / 2, w * math.pi / 2  # moved from [-1, 1]


NODES, WEIGHTS = gauss_legendre(N_NODES)


def memory_bytes(size):
    """Peak memory a run at ``size`` needs: the parameters, then serial's parameters and integrals as lists.

    A Python float in a list takes about 32 bytes: the object and its slot in the list.
    """
    return 8 * size + 2 * 32 * size


def integrand(t, p):
    """Return ``exp(p * (cos t - 1)) / pi``; its integral over [0, pi] is i0e(p)."""
    return math.exp(p * (math.cos(t) - 1.0)) / math.pi


if numba:  # without it, the numba variants are skipped (see below VARIANTS)
    from numba import types

    integrand_numba = numba.njit(cache=True)(integrand)

    @numba.cfunc(types.float64(types.intc, types.CPointer(types.float64)), cache=True)
    def _integrand_cfunc(n, xx):
        return integrand_numba(xx[0], xx[1])  # quad puts x first, then the args

    INTEGRAND_C = LowLevelCallable(_integrand_cfunc.ctypes)


def integrate_chunk(f, params):
    """Integrate ``f(t, p)`` over [0, pi] with quad, for each p in a list."""
    return [quad(f, 0.0, math.pi, args=(p,), epsabs=0.0, epsrel=EPSREL)[0] for p in params]


def fixed_rule_numpy(params):
    """Integrate for a whole array of p at once with the fixed Gauss-Legendre rule."""
    values = np.exp(np.multiply.outer(params, np.cos(NODES) - 1.0))
    return (values * WEIGHTS).sum(axis=1) / np.pi


def make_input(size, seed=0):
    """Return ``size`` parameters drawn uniformly from [0, P_MAX]."""
    if size < MIN_SIZE:
        raise ValueError(f"size {size} is below this recipe's smallest size, {MIN_SIZE}: no integrals")
    return np.random.default_rng(seed).uniform(0.0, P_MAX, size)


def _chunks(params):
    return np.array_split(params, N_CHUNKS)


def _lists(params):
    return [chunk.tolist() for chunk in _chunks(params)]


def serial(params, n_workers):
    return np.concatenate([integrate_chunk(integrand, chunk) for chunk in _lists(params)])


def python_threads(params, n_workers):
    chunks = _lists(params)
    with ThreadPoolExecutor(n_workers) as pool:
        return np.concatenate(list(pool.map(integrate_chunk, [integrand] * len(chunks), chunks)))


def numpy_(params, n_workers):
    return np.concatenate([fixed_rule_numpy(chunk) for chunk in _chunks(params)])


def numpy_threads(params, n_workers):
    with ThreadPoolExecutor(n_workers) as pool:
        return np.concatenate(list(pool.map(fixed_rule_numpy, _chunks(params))))


def numba_(params, n_workers):
    return np.concatenate([integrate_chunk(INTEGRAND_C, chunk) for chunk in _lists(params)])


def numba_threads(params, n_workers):
    chunks = _lists(params)
    with ThreadPoolExecutor(n_workers) as pool:
        return np.concatenate(list(pool.map(integrate_chunk, [INTEGRAND_C] * len(chunks), chunks)))


def joblib_processes(params, n_workers):
    tasks = (delayed(integrate_chunk)(integrand, chunk) for chunk in _lists(params))
    return np.concatenate(Parallel(n_jobs=n_workers, prefer="processes")(tasks))


VARIANTS = {
    "serial": serial,
    "python_threads": python_threads,
    "numpy": numpy_,
    "numpy_threads": numpy_threads,
    "numba": numba_,
    "numba_threads": numba_threads,
    "joblib_processes": joblib_processes,
}
NOT_APPLICABLE = {
    "python_interpreters": "its integrator is SciPy's quad, and SciPy cannot be loaded in a subinterpreter",
}
if numba is None:
    NOT_APPLICABLE |= {v: "numba is not installed for this Python" for v in VARIANTS if v.startswith("numba")}
    VARIANTS = {v: run for v, run in VARIANTS.items() if v not in NOT_APPLICABLE}

if __name__ == "__main__":
    import os
    import time

    from scipy.special import i0e

    data = make_input(SIZES["small"])
    expected = serial(data, 1)
    print(f"largest relative error against scipy.special.i0e: {np.max(np.abs(expected / i0e(data) - 1)):.1e}")
    for name, variant in VARIANTS.items():
        variant(data, os.cpu_count() or 1)  # untimed: numba compiles and pools start on a first call
        start = time.perf_counter()
        result = variant(data, os.cpu_count() or 1)
        elapsed = time.perf_counter() - start
        print(f"{name:18} {elapsed:8.3f} s  agrees: {np.allclose(result, expected, rtol=RTOL, atol=0)}")
