"""Why a rung loses: each cause from made-up measurements, and the watched serial pass that feeds them."""

import pytest

from cookbook import diagnosis
from cookbook.kernel import (
    Conversion,
    Examined,
    KernelError,
    check_again,
    examine,
    imbalance_bound,
    materialize,
    picked,
    sampled_count,
)
from cookbook.stats import Interval
from tests import advise_kernels


def _examined(**changes):
    fields = dict(
        chunk_s=[0.1] * 8,
        wall_s=0.8,
        cpu_s=0.8,
        system_s=0.0,
        page_faults=0,
        sampled=8,
        results_none=False,
        shipping=None,
    )
    return Examined(**{**fields, **changes})


def test_numba_holding_the_gil_names_the_conversion_and_what_an_array_saves():
    conversion = Conversion("reflected list(float64)", 2.09e-3, 0.63e-3, "float64")
    said = diagnosis.numba_gil(0.72, conversion)
    assert said.startswith("a compiled call holds the GIL 72% of the time: numba converts the argument, ")
    assert "a call takes 630 µs instead of 2.09 ms, so converting is 70% of a call: pass arrays" in said
    assert "pass and return NumPy arrays" in diagnosis.numba_gil(
        0.72, conversion.__class__("x", 1, None, "y")
    )
    assert "print, objmode or a lock" in diagnosis.numba_gil(0.5, None)
    assert diagnosis.numba_gil(0.05, conversion) is None and diagnosis.numba_gil(None, conversion) is None


def test_a_kernel_already_parallel_is_named_with_its_pools_and_their_limits():
    examined = _examined(cpu_s=1.5, pools=["openblas (blas)"], numba_parallel=True)
    said = diagnosis.already_parallel(examined, 2)
    assert said.startswith("a serial call already keeps 1.9 of the 2 cores busy (openblas (blas), numba's ")
    assert "threadpoolctl.threadpool_limits(1) and numba.set_num_threads(1)" in said
    assert diagnosis.already_parallel(_examined(cpu_s=0.82), 2) is None


def test_uneven_chunks_give_the_best_efficiency_a_pool_can_reach_and_the_chunking_that_fixes_it():
    assert imbalance_bound([1.0] * 8, 2) == 1.0
    assert imbalance_bound([4.0, 1.0, 1.0], 2) == pytest.approx(6 / 8)  # the long chunk alone on one worker
    said = diagnosis.imbalance(_examined(chunk_s=[0.8, 0.1, 0.1, 0.1]), 2)
    assert "no pool can reach an efficiency above 0.69 on them: split the work into 8 or more chunks" in said
    assert diagnosis.imbalance(_examined(), 2) is None and diagnosis.imbalance(_examined(), 1) is None


def test_page_faults_are_named_when_the_system_takes_a_large_share():
    said = diagnosis.system_time(_examined(system_s=0.4, page_faults=80_000))
    assert said.startswith("a serial pass spent 50% of its time in the system (10,000 page faults a chunk)")
    assert "reuse buffers" in said
    assert diagnosis.system_time(_examined(system_s=0.05)) is None


def test_the_compile_is_repaid_after_the_calls_its_savings_cover():
    said = diagnosis.compile_repaid(0.9, 0.05, 8)  # 0.4 s saved a call
    assert said.startswith("numba's compile, 900 ms, is repaid after 3 calls over the 8 chunks")
    assert "cache=True" in said
    assert diagnosis.compile_repaid(0.9, -0.01, 8) is None


def test_process_costs_that_add_up_and_a_remainder_that_does_not():
    fits, add_up = diagnosis.process_costs(Interval(0.6, 0.58, 0.62), 1.0, 2, 0.1)
    assert add_up and fits.startswith("its costs add up: 500 ms of work per worker plus 100 ms to send the")
    short, add_up = diagnosis.process_costs(Interval(0.9, 0.85, 0.95), 1.0, 2, 0.1)
    assert add_up is False and short.endswith(
        "300 ms a call is explained by neither (the workers' memory, their caches, a busy machine)"
    )
    uneven, add_up = diagnosis.process_costs(Interval(0.9, 0.85, 0.95), 1.0, 2, 0.1, balance=0.625)
    assert add_up and "800 ms of work per worker (uneven chunks: 0.62 at best) plus 100 ms" in uneven
    said, add_up = diagnosis.process_costs(Interval(0.9, None, None), 1.0, 2, 0.1)
    assert add_up is None and said.endswith("(one sample: not judged)")


def test_the_watched_pass_times_each_chunk_and_the_timed_chunks_must_give_the_same_again():
    chunks = advise_kernels.make_heavy()
    examined, results = examine(advise_kernels.python_loop, chunks, "python_loop")
    assert results == [advise_kernels.python_loop(n) for n in chunks]
    assert len(examined.chunk_s) == len(chunks) and all(t > 0 for t in examined.chunk_s)
    assert examined.sampled == len(chunks) and not examined.results_none and examined.shipping.chunk_bytes > 0
    check_again(advise_kernels.python_loop, chunks, results, None, examined, (0, 0), sampled=4, name="k")
    assert examined.sampled == 4
    with pytest.raises(KernelError, match=r"raised on chunk 2 \(of 4, counted from 0\): ValueError"):
        examine(advise_kernels.raises_on_1002, advise_kernels.make_thousands(), "k")
    examined, results = examine(advise_kernels.noisy, [1, 2], "noisy")
    with pytest.raises(KernelError, match="noisy is not deterministic: two serial passes differ"):
        check_again(advise_kernels.noisy, [1, 2], results, None, examined, (0, 0), sampled=2, name="noisy")


def test_timed_calls_run_enough_evenly_spaced_chunks_for_serial_and_for_the_fastest_rung():
    assert sampled_count([0.01] * 8, 2) == 8  # a whole call is short: all of them
    assert sampled_count([0.2] * 8, 2) == 2  # one a worker: a serial call of 0.4 s is long enough
    assert sampled_count([0.2] * 8, 2, speedup=200) == 4  # numba's 1 ms chunks: 2 ms a worker
    assert sampled_count([0.001] * 1000, 4) == 100
    assert sampled_count([1.0] + [0.05] * 7, 2, speedup=70) == 6  # chunk 0 paid a JIT: the median counts
    uneven = [0.1, 0.1, 0.1, 0.1, 0.4, 0.1, 0.1, 0.1]  # chunks 0 and 4 alone: one worker waits on 4
    assert sampled_count(uneven, 2) == 4 and sampled_count([0.1] * 8, 2) == 2
    assert picked(8, 4) == [0, 2, 4, 6] and picked(5, 5) == [0, 1, 2, 3, 4]
    assert sampled_count([0.2] * 8, 2, system_share=0.33) == 8  # page faults depend on the calls before


def test_iterators_among_the_chunks_are_made_lists_and_named():
    made, note = materialize([iter([1, 2]), [3], (x for x in [4])])
    assert made == [[1, 2], [3], [4]] and note.startswith("2 of the 3 chunks were iterators")
    assert materialize(x for x in [1, 2]) == ([1, 2], None)  # a generator of chunks is fine as it is
