"""Requests decoded together (inference/batching.py): each gets the names it would alone, a hard one
neither holds the others nor runs past its time limit, and a cancelled one stops."""

import time

import pytest

from villanueva.errors import UserError
from villanueva.inference import Constraints, Drawing, SampleReport
from villanueva.inference.batching import Scheduler
from villanueva.inference.graphs import run_steps
from villanueva.inference.on_demand import Sampling, Style, described, run_sampler, sample_run
from villanueva.runs import load_run, open_run

REQUESTS = [  # different settings, so that each request's rows differ from its neighbours'
    (Sampling(count=20, seed=1), Style(), Constraints(), Drawing()),
    (
        Sampling(count=30, seed=2),
        Style(label="Girona"),
        Constraints(starts_with="Sant", new_only=True),
        Drawing(),
    ),
    (Sampling(count=5, seed=3, budget=3_000), Style(), Constraints(contains=("qqq",)), Drawing()),
    (Sampling(count=300, seed=4), Style(), Constraints(ends_with="a", max_length=9), Drawing(top_k=10)),
    (Sampling(count=40, seed=5), Style(label="Galicia"), Constraints(min_length=8), Drawing(top_p=0.9)),
    (Sampling(count=25, seed=6), Style(), Constraints(), Drawing(temperature=1.4)),
]


@pytest.fixture(scope="module", params=["onnx", "torch"])
def run(request):
    """The bundled model on ONNX Runtime (what `serve` runs on the CPU) and on torch."""
    return open_run(None, "cpu") if request.param == "onnx" else load_run(None)


def batched(scheduler, run, settings, time_limit=60.0):
    """Hand a request to `scheduler` as the server does: its future, and its report."""
    report, steps = SampleReport(), scheduler.steps
    sampler = run_sampler(run, steps, *settings, report=report)
    future = scheduler.sample(
        sampler, time_limit, lambda batch: described(run, steps, batch, run.names, True)
    )
    return future, report, sampler


@pytest.mark.parametrize("share", [256, 7])  # 7: every position's rows drawn a few at a time
def test_a_seed_gives_the_same_names_alone_and_batched_with_others(run, share):
    alone = []
    for settings in REQUESTS:
        report = SampleReport()
        names = [name for batch in sample_run(run, *settings, report=report, losses=True) for name in batch]
        alone.append((names, report.candidates, report.complete))
    scheduler = Scheduler(run_steps(run), share=share)
    try:
        handed = [batched(scheduler, run, settings) for settings in REQUESTS]
        together = [(future.result(60), report.candidates, report.complete) for future, report, _ in handed]
    finally:
        scheduler.close()
    assert together == alone
    assert not alone[2][2] and all(complete for i, (_, _, complete) in enumerate(alone) if i != 2)


def test_a_hard_request_stops_at_its_time_limit_and_holds_no_one():
    run = open_run(None, "cpu")
    scheduler = Scheduler(run_steps(run))
    try:
        impossible = (Sampling(count=5, budget=100_000), Style(), Constraints(contains=("qqq",)), Drawing())
        hard, report, _ = batched(scheduler, run, impossible, time_limit=1.0)
        started = time.monotonic()
        normal, _, _ = batched(scheduler, run, REQUESTS[0])
        assert len(normal.result(5)) == 20
        took = time.monotonic() - started
        assert not hard.done() and took < 0.5  # the hard one's 100,000 candidates take about 18 s
        assert hard.result(5) == [] and time.monotonic() - started < 2
    finally:
        scheduler.close()
    assert report.time_limit == 1.0 and not report.complete and 0 < report.candidates < 100_000
    assert report.shortfall().startswith("found 0 of 5 names in ")
    assert "(the time limit of 1 s; raise it with `time_limit`)" in report.shortfall()


def test_a_cancelled_request_stops_drawing():
    run = open_run(None, "cpu")
    scheduler = Scheduler(run_steps(run))
    try:
        impossible = (Sampling(count=5, budget=100_000), Style(), Constraints(contains=("qqq",)), Drawing())
        future, _, sampler = batched(scheduler, run, impossible)

        def drawn():  # the sampler's generator moves on with every share it draws
            return sampler.generator.bit_generator.state["state"]["state"]

        time.sleep(0.2)
        before = drawn()
        time.sleep(0.2)
        assert drawn() != before  # still at work
        assert future.cancel()
        time.sleep(0.2)  # a step or two to notice
        after = drawn()
        time.sleep(0.3)
        assert drawn() == after
    finally:
        scheduler.close()


def test_calls_between_the_steps_answer_or_fail_alone():
    scheduler = Scheduler(run_steps(open_run(None, "cpu")))

    def refuse():
        raise UserError("no")

    try:
        assert scheduler.call(sum, [1, 2]).result(5) == 3
        with pytest.raises(UserError, match="no"):
            scheduler.call(refuse).result(5)
        assert scheduler.call(len, "abc").result(5) == 3  # the thread goes on
    finally:
        scheduler.close()
