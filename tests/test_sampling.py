"""Warm-up by measurement, calibrated samples, interleaved rounds, adaptive stopping and the flags.

Durations are scripted or synthetic: nothing here asserts how fast anything ran.
"""

import json
import random

import pytest

from cookbook import figures, measure, report, timing
from cookbook.load import Load
from cookbook.measure import run_recipe
from cookbook.options import ADVISE_MODES, MODES, RunOptions
from cookbook.recipe import load
from cookbook.results import Measurement, RecipeRun, Sample
from cookbook.run import main
from tests.conftest import GOOD_RECIPE, PROCESSES_RECIPE

EXACT = MODES["default"].replace(min_rounds=3, max_rounds=3, floor_s=0.0, budget_s=100.0, precision=1e-9)


def _scripted(monkeypatch, durations):
    """Make ``timing.time_call`` report ``durations`` in turn, and count the calls."""
    made = []

    def fake(call):
        made.append(call())
        return None, durations[len(made) - 1]

    monkeypatch.setattr(timing, "time_call", fake)
    return made


def test_warm_up_goes_on_while_calls_get_faster_and_stops_when_they_do_not(monkeypatch):
    made = _scripted(monkeypatch, [0.50, 0.30, 0.20, 0.199, 0.21, 9.0])
    assert timing.warm_up(lambda: "x", max_calls=10) == [0.50, 0.30, 0.20, 0.199, 0.21]
    assert len(made) == 5  # 0.199 and 0.21 did not beat 0.20 by 3%: two in a row end it


def test_warm_up_is_capped_by_calls_and_by_time(monkeypatch):
    _scripted(monkeypatch, [1.0, 0.9, 0.8, 0.7, 0.6, 0.5])
    assert len(timing.warm_up(lambda: None, max_calls=3)) == 3
    _scripted(monkeypatch, [1.0, 0.9, 0.8, 0.7, 0.6, 0.5])
    assert len(timing.warm_up(lambda: None, max_calls=10, budget_s=2.5)) == 3  # 1.0 + 0.9 + 0.8


@pytest.mark.parametrize(("per_call", "floor", "calls"), [(0.003, 0.05, 17), (0.3, 0.05, 1), (0.05, 0.05, 1)])
def test_a_sample_loops_short_calls_until_it_lasts_the_floor(per_call, floor, calls):
    assert timing.calls_per_sample(per_call, floor) == calls


RECORDING = """
    import os

    CALLS = []


    def _record(name, data, n_workers):
        with open(os.environ["SAMPLING_LOG"], "a") as log:
            log.write(f"{name} {n_workers}\\n")
        return serial(data, n_workers)


    def python_threads(data, n_workers):
        return _record("python_threads", data, n_workers)


    def numpy(data, n_workers):
        return _record("numpy", data, n_workers)


    VARIANTS = {"serial": serial, "python_threads": python_threads, "numpy": numpy}
"""


def test_steps_are_sampled_in_rounds_of_every_step_in_a_varied_order(write_recipe, tmp_path, monkeypatch):
    log = tmp_path / "calls.log"
    monkeypatch.setenv("SAMPLING_LOG", str(log))
    recipe = load(str(write_recipe(GOOD_RECIPE + RECORDING)))
    options = RunOptions(size="small", workers=(1, 2), sampling=EXACT.replace(min_rounds=6, max_rounds=6))
    monkeypatch.setattr(measure, "warm_up", lambda call, **_: [timing.time_call(call)[1]])
    monkeypatch.setattr(measure, "_gil_held", lambda *_: None)  # its calls are not the ones counted here
    run = run_recipe(recipe, options)
    assert [(m.variant, m.workers, m.status) for m in run.measurements] == [
        ("serial", 1, "OK"),
        ("python_threads", 1, "OK"),
        ("python_threads", 2, "OK"),
        ("numpy", 1, "OK"),
    ]
    for m in run.measurements:
        assert [s.round for s in m.samples] == list(range(6)) and m.stopped == "rounds"
    calls = log.read_text().split("\n")[:-1]
    setup, rounds = calls[:6], calls[6:]  # first call and one warm-up call for each recorded step
    assert setup == ["python_threads 1"] * 2 + ["python_threads 2"] * 2 + ["numpy 1"] * 2
    orders = [tuple(rounds[i : i + 3]) for i in range(0, len(rounds), 3)]
    assert len(orders) == 6 and all(sorted(order) == sorted(orders[0]) for order in orders)
    assert len(set(orders)) > 1, "every round ran the steps in the same order"


def test_a_step_whose_process_pool_was_replaced_is_warmed_up_again(write_recipe, monkeypatch):
    body = PROCESSES_RECIPE
    pools = iter(range(1000))  # a new pool at every look
    monkeypatch.setattr(measure, "process_pool_identity", lambda: next(pools))
    run = run_recipe(load(str(write_recipe(body))), RunOptions(size="small", workers=(2,), sampling=EXACT))
    step = run.find("joblib_processes", 2)
    assert step.status == "OK" and step.rewarmed == 3  # once before each of its 3 samples
    assert run.find("serial", 1).rewarmed == 0


def test_a_step_stops_once_its_interval_is_narrow_enough_or_its_budget_is_spent(monkeypatch):
    precise = measure._Step(
        Measurement("numba", 1, "OK"), call=lambda: None, check=None, inner_limit=None, watches_pool=False
    )
    precise.measurement.samples = [Sample(r, 1.0 + 0.001 * r, 1) for r in range(6)]
    measure._maybe_stop(precise, MODES["default"])
    assert precise.measurement.stopped == "precision" and not precise.active

    noisy = measure._Step(
        Measurement("numba", 2, "OK"), call=lambda: None, check=None, inner_limit=None, watches_pool=False
    )
    noisy.measurement.samples = [Sample(r, t, 1) for r, t in enumerate([1.0, 1.6, 0.7, 1.3, 0.9, 1.5])]
    noisy.spent_s = 0.5
    measure._maybe_stop(noisy, MODES["default"])
    assert noisy.active, "it has neither the precision nor the budget spent: it goes on"
    noisy.spent_s = MODES["default"].budget_s
    measure._maybe_stop(noisy, MODES["default"])
    assert noisy.measurement.stopped == "budget"


def _sampled_step(variant, workers, seconds):
    step = measure._Step(
        Measurement(variant, workers, "OK"), call=None, check=None, inner_limit=None, watches_pool=False
    )
    step.measurement.samples = [Sample(r, t, 1) for r, t in enumerate(seconds)]
    return step


def _stop_all(steps, sampling):
    for step in steps:
        measure._maybe_stop(step, sampling, steps)
    return {step.measurement.variant: step.measurement.stopped for step in steps}


RANKED = ADVISE_MODES["default"]


def test_a_ranked_step_stops_once_it_is_slower_than_the_fastest_beyond_both_intervals():
    noisy = [1.0, 1.3, 0.8, 1.2, 0.9, 1.1]  # ±30%: the precision alone would keep it going
    fast = _sampled_step("numba_threads", 2, [0.5 * t for t in noisy])
    rival = _sampled_step("joblib", 2, [0.6 * t for t in noisy])  # overlaps: both go on
    slow = _sampled_step("serial", 1, [2.0 * t for t in noisy])
    assert _stop_all([fast, rival, slow], RANKED) == {"numba_threads": "", "joblib": "", "serial": "ranked"}
    assert _stop_all([fast, slow], RANKED) == {"numba_threads": "ranked", "serial": "ranked"}
    assert _stop_all([fast, rival, slow], MODES["default"].replace(max_rounds=16, budget_s=2.0)) == {
        "numba_threads": "",
        "joblib": "",
        "serial": "",
    }, "without ranked, only precision, budget and rounds end a step"


def test_a_ranked_step_goes_on_again_when_a_later_round_unsettles_its_place():
    fast = _sampled_step("numba_threads", 2, [0.5, 0.55, 0.45, 0.5, 0.56, 0.48])  # ±12%
    slow = _sampled_step("serial", 1, [1.0, 1.02, 0.98, 1.0, 1.01, 0.99])
    assert _stop_all([fast, slow], RANKED) == {"numba_threads": "ranked", "serial": "ranked"}
    slow.measurement.samples = [Sample(r, t, 1) for r, t in enumerate([1.0, 0.4, 0.45, 1.0, 0.4, 0.99])]
    assert _stop_all([fast, slow], RANKED) == {"numba_threads": "", "serial": ""}
    assert fast.active and slow.active


def test_advise_ranks_its_rungs_and_rigorous_times_every_one_fully():
    assert ADVISE_MODES["default"].ranked and not ADVISE_MODES["rigorous"].ranked
    assert not any(mode.ranked for mode in MODES.values())


def _measurement(variant, workers, per_call, **sample_fields):
    calls = timing.calls_per_sample(min(per_call), MODES["default"].floor_s)  # as calibration would
    samples = [Sample(r, t, calls, **sample_fields) for r, t in enumerate(per_call)]
    return Measurement(variant, workers, "OK", samples=samples, stopped="rounds")


def _run(*measurements):
    run = RecipeRun("demo", None, 1, "small", {}, sampling=MODES["default"])
    run.measurements = list(measurements)
    return run


def _row(run, m):
    """The derived figures of ``m``'s row in ``run``."""
    return next(row for row in figures.derive(run, None) if row.measurement is m)


def test_efficiency_pairs_samples_of_the_same_round_so_drift_cancels():
    drift = [1.0, 1.3, 1.6, 1.9, 2.2, 2.5, 2.8, 3.1]  # the machine slows down round by round
    one = _measurement("numba_threads", 1, [2.0 * d for d in drift])
    two = _measurement("numba_threads", 2, [1.25 * d for d in drift])
    efficiency = _row(_run(_measurement("serial", 1, [4.0 * d for d in drift]), one, two), two).efficiency
    assert efficiency.value == pytest.approx(0.8) and efficiency.low == pytest.approx(0.8)
    assert efficiency.high == pytest.approx(0.8)


def test_an_efficiency_above_one_beyond_its_interval_is_flagged_with_a_cause():
    one = _measurement("numba_threads", 1, [0.144, 0.144, 0.145, 0.1, 0.099, 0.1, 0.143, 0.144])
    two = _measurement("numba_threads", 2, [0.035, 0.036, 0.035, 0.036, 0.035, 0.036, 0.035, 0.036])
    run = _run(_measurement("serial", 1, [1.0] * 8), one, two)
    assert _row(run, two).efficiency.low > 1
    flags = _row(run, two).flags
    assert [f.kind for f in flags] == ["impossible"]
    assert "efficiency above 1" in flags[0].reason and "two modes" in flags[0].reason
    assert {f.kind for f in _row(run, one).flags} == {"modes"}


def test_a_plausible_efficiency_is_not_flagged():
    one = _measurement("numba_threads", 1, [0.100, 0.101, 0.099, 0.100, 0.102, 0.100])
    two = _measurement("numba_threads", 2, [0.052, 0.051, 0.053, 0.052, 0.051, 0.052])
    run = _run(_measurement("serial", 1, [1.0, 1.01, 0.99, 1.0, 1.0, 1.01]), one, two)
    assert _row(run, two).flags == () and _row(run, one).flags == ()


def test_a_step_sampled_while_another_process_held_a_core_is_flagged_busy():
    busy = _measurement("numba_threads", 2, [0.05] * 6, other_cores=0.9, steal_cores=0.0, observed_s=0.05)
    quiet = _measurement("numba_threads", 1, [0.1] * 6, other_cores=0.1, steal_cores=0.0, observed_s=0.1)
    run = _run(_measurement("serial", 1, [1.0] * 6), quiet, busy)
    assert [f.kind for f in _row(run, busy).flags] == ["busy"] and "0.9" in _row(run, busy).flags[0].reason
    assert _row(run, quiet).flags == ()
    assert Load(0.9, 0.0).other_cores == 0.9


def test_the_load_of_a_step_weighs_its_samples_by_their_length():
    # one 10 ms tick seen in a 2 ms sample reads as 5 cores; over the step it is 0.1 core
    samples = [Sample(0, 0.002, 1, other_cores=5.0, steal_cores=0.0, observed_s=0.002)]
    samples += [Sample(r, 0.02, 1, other_cores=0.0, steal_cores=0.0, observed_s=0.02) for r in range(1, 6)]
    m = Measurement("numba_prange", 2, "OK", samples=samples, stopped="rounds")
    assert not [f for f in _row(_run(_measurement("serial", 1, [1.0] * 6), m), m).flags if f.kind == "busy"]


def test_a_step_that_ran_out_of_budget_is_not_flagged_and_the_notes_say_how_far_it_got():
    m = _measurement("python_threads", 2, [1.0, 1.3, 0.8, 1.2, 0.9, 1.1])
    m.stopped = "budget"
    run = _run(_measurement("serial", 1, [1.0] * 6), m)
    assert _row(run, m).flags == ()  # its wide interval says it already
    [line] = [line for line in report.notes(figures.derive(run, None)) if line.startswith("precision")]
    assert "python_threads x2 used their 1 s" in line and "within ±5%" in line and "the widest ±" in line


def test_the_notes_name_the_steps_that_stopped_once_ranked():
    m = _measurement("python_threads", 2, [2.0, 2.6, 1.6, 2.4, 1.8, 2.2])
    m.stopped = "ranked"
    run = _run(_measurement("serial", 1, [1.0] * 6), m)
    [line] = [line for line in report.notes(figures.derive(run, None)) if line.startswith("ranked")]
    assert line.startswith("ranked: python_threads x2 stopped sampling") and "wider than --rigorous" in line


def test_a_steady_rise_over_the_rounds_is_flagged_as_drift_and_spread_alone_is_not():
    rising = _measurement("numba_threads", 1, [1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7])
    spread = _measurement("numba_threads", 2, [0.6, 0.8, 0.5, 0.7, 0.55, 0.75, 0.65, 0.58])
    run = _run(_measurement("serial", 1, [1.0] * 8), rising, spread)
    assert [f.kind for f in _row(run, rising).flags] == ["drift"]
    assert "rose" in _row(run, rising).flags[0].reason
    assert [f.kind for f in _row(run, spread).flags] == []  # a 20% spread: the interval shows it


def test_too_few_samples_for_an_interval_are_flagged():
    m = _measurement("numba", 1, [1.0, 1.01, 0.99])
    row = _row(_run(_measurement("serial", 1, [1.0] * 6), m), m)
    assert [f.kind for f in row.flags] == ["few"] and row.median.low is None


def test_measurements_travel_as_the_json_dicts_and_come_back_whole():
    m = _measurement(
        "numba_threads", 2, [0.1, 0.2], other_cores=0.5, steal_cores=None, page_faults_per_call=3.0
    )
    m.warmup_s, m.first_s = [0.3, 0.2], 1.5
    assert Measurement.from_dict(json.loads(json.dumps(m.to_dict()))) == m


def test_the_json_of_a_run_holds_samples_intervals_and_flags(write_recipe, tmp_path):
    path = write_recipe(GOOD_RECIPE + '\n    VARIANTS = {"serial": serial}\n')
    out = tmp_path / "run.json"
    argv = [str(path), "--size", "small", "--repeat", "6", "--sample-time", "0.001", "--json", str(out)]
    assert main(argv) == 0
    record = json.loads(out.read_text())
    assert record["schema"] == 3 and record["options"]["sampling"]["min_rounds"] == 6
    row = record["recipes"][0]["measurements"][0]
    assert len(row["samples"]) >= 6 and row["median_low_s"] <= row["median_s"] <= row["median_high_s"]
    assert {"round", "per_call_s", "calls", "other_cores", "steal_cores"} <= row["samples"][0].keys()
    assert isinstance(row["flags"], list) and row["stopped"] in ("precision", "budget", "rounds")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--repeat", "0"], "must be 1 or more"),
        (["--repeat", "-2"], "must be 1 or more"),
        (["--precision", "0"], "must be between 0 and 1"),
        (["--precision", "1.5"], "must be between 0 and 1"),
        (["--precision", "nan"], "must be between 0 and 1"),
        (["--budget", "0"], "must be more than 0 seconds"),
        (["--budget", "-1"], "must be more than 0 seconds"),
        (["--sample-time", "soon"], "is not a number of seconds"),
        (["--quick", "--rigorous"], "not allowed with argument"),
    ],
)
def test_sampling_options_that_make_no_sense_exit_2_with_one_line(capsys, argv, message):
    assert main(["countdown", *argv]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert "Traceback" not in captured.err and len(lines) == 1 and message in lines[0], lines


def test_the_modes_differ_as_the_help_says():
    quick, default, rigorous = MODES["quick"], MODES["default"], MODES["rigorous"]
    assert quick.min_rounds == quick.max_rounds == 1
    assert default.min_rounds >= 6  # the fewest samples with a 95% order-statistics interval
    assert rigorous.min_rounds > default.min_rounds and rigorous.precision < default.precision
    assert random.Random(0).random() != random.Random(1).random()  # rounds are shuffled by their number


def test_a_step_whose_calls_got_faster_than_its_warm_up_is_calibrated_again(write_recipe, monkeypatch):
    path = write_recipe(GOOD_RECIPE + '\n    VARIANTS = {"serial": serial}\n')
    monkeypatch.setattr(measure, "warm_up", lambda call, **_: [0.05])  # a warm-up that looked slow
    sampling = MODES["default"].replace(min_rounds=5, max_rounds=5, floor_s=0.05)
    m = run_recipe(load(str(path)), RunOptions(size="small", sampling=sampling)).find("serial", 1)
    assert m.samples[0].calls == 1  # calibrated on the warm-up's 50 ms: one call
    assert m.samples[1].calls > 100  # the call takes microseconds: looped up to the floor from then on
    assert m.samples[-1].seconds >= 0.5 * sampling.floor_s  # each short sample calibrates it again


def test_the_header_says_when_the_load_of_other_processes_is_unknown(monkeypatch):
    from cookbook import environment, load, report

    assert "read from /proc/stat" in report.method_line(MODES["default"], environment.collect())
    monkeypatch.setattr(load, "snapshot", lambda **_: None)  # as on a system without /proc
    line = report.method_line(MODES["default"], environment.collect())
    assert "unknown here (no /proc/stat)" in line


CACHING = """
    _cache = {}


    def cached(data, n_workers):  # right on the first call, then a stale answer at no cost
        if "answer" in _cache:
            return _cache["answer"] + 1
        _cache["answer"] = serial(data, n_workers)
        return _cache["answer"]


    VARIANTS = {"serial": serial, "cached": cached}
"""


def test_a_variant_whose_later_calls_return_a_wrong_answer_is_a_mismatch(write_recipe):
    recipe = load(str(write_recipe(GOOD_RECIPE + CACHING)))
    run = run_recipe(recipe, RunOptions(size="small", workers=(1,), sampling=EXACT))
    cached = run.measurements[1]
    assert cached.status == "MISMATCH" and "last timed call" in cached.detail
    assert run.measurements[0].status == "OK"


def test_a_variant_that_writes_into_the_reference_cannot_make_itself_agree(write_recipe):
    shared = """
    OUT = np.zeros(8, dtype=np.int64)


    def serial(data, n_workers):  # returns a buffer that later variants write into
        OUT[:] = data * data
        return OUT


    def wrong_in_place(data, n_workers):
        OUT[:] = data
        return OUT


    VARIANTS = {"serial": serial, "wrong_in_place": wrong_in_place}
    """
    recipe = load(str(write_recipe(GOOD_RECIPE + shared)))
    run = run_recipe(recipe, RunOptions(size="small", workers=(1,), check_only=True))
    assert [m.status for m in run.measurements] == ["OK", "MISMATCH"]


def test_more_workers_than_tasks_are_flagged_with_the_efficiency_they_can_reach():
    one = _measurement("numba_threads", 1, [0.100, 0.101, 0.099, 0.100, 0.102, 0.100])
    many = _measurement("numba_threads", 64, [0.007] * 6)
    run = _run(_measurement("serial", 1, [1.0] * 6), one, many)
    run.tasks = 16
    flags = [f for f in _row(run, many).flags if f.kind == "idle"]
    assert len(flags) == 1 and "64 workers for 16 tasks" in flags[0].reason and "0.25" in flags[0].reason
    assert not [f for f in _row(run, one).flags if f.kind == "idle"]
    run.tasks = None  # a recipe that does not say
    assert not [f for f in _row(run, many).flags if f.kind == "idle"]


def test_a_recipes_task_count_reaches_its_runs_and_json(write_recipe):
    recipe = load(str(write_recipe(GOOD_RECIPE + "\n    N_TASKS = 3\n    VARIANTS = {'serial': serial}\n")))
    run = run_recipe(recipe, RunOptions(size="small", workers=(1,), check_only=True))
    assert recipe.tasks == 3 and run.tasks == 3 and run.to_dict()["tasks"] == 3
