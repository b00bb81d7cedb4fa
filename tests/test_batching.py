"""Requests decoded together (inference/batching.py): each gets the names it would alone, a hard one
neither holds the others nor runs past its time limit, and a cancelled one stops."""

import threading
import time
from functools import partial

import pytest

from villanueva.errors import UserError
from villanueva.inference import Constraints, Drawing, SampleReport
from villanueva.inference.batching import Scheduler
from villanueva.inference.graphs import run_steps
from villanueva.inference.guess import guess_run
from villanueva.inference.on_demand import (
    Sampling,
    Scoring,
    Style,
    described,
    run_sampler,
    sample_run,
    score_run,
)
from villanueva.inference.score import fits_one_pass
from villanueva.inference.steps import Steps
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
    report = SampleReport()
    sampler = run_sampler(run, scheduler.steps, *settings, report=report)
    return scheduler.sample(sampler, time_limit), report, sampler


def without_losses(names):
    return [(name.name, name.label, name.known) for name in names]


def scheduler_of(run, **shares):
    """A scheduler of `run` that describes names as the server does (with their losses)."""
    steps = run_steps(run)
    return Scheduler(steps, partial(described, run, steps, known=run.names, losses=True), **shares)


@pytest.mark.parametrize("share", [1024, 7])  # 7: every position's rows drawn a few at a time
def test_a_seed_gives_the_same_names_alone_and_batched_with_others(run, share):
    alone = []
    for settings in REQUESTS:
        report = SampleReport()
        names = [name for batch in sample_run(run, *settings, report=report, losses=True) for name in batch]
        alone.append((names, report.candidates, report.complete))
    scheduler = scheduler_of(run, step_rows=share, min_share=share)
    try:
        handed = [batched(scheduler, run, settings) for settings in REQUESTS]
        together = [(future.result(60), report.candidates, report.complete) for future, report, _ in handed]
    finally:
        scheduler.close()
    if run.model is None:  # ONNX Runtime, what `serve` runs on the CPU: the same, bit for bit
        assert together == alone
    else:  # torch's float32 products round by the shape of the batch: the losses scored beside
        # other requests' names agree to float32's precision, everything else exactly
        assert [(without_losses(n), *rest) for n, *rest in together] == [
            (without_losses(n), *rest) for n, *rest in alone
        ]
        for (names, *_), (expected, *_) in zip(together, alone):
            assert [n.loss for n in names] == pytest.approx([n.loss for n in expected], rel=1e-6)
    assert not alone[2][2] and all(complete for i, (_, _, complete) in enumerate(alone) if i != 2)


def test_a_hard_request_stops_at_its_time_limit_and_holds_no_one():
    run = open_run(None, "cpu")
    scheduler = scheduler_of(run)
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
    scheduler = scheduler_of(run)
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


class HeldSteps(Steps):
    """A run's steps (for reading names only) whose reads wait until `release` is set, keeping the
    widths of each read's names (with the start token)."""

    def __init__(self, steps):
        super().__init__(steps.graph, steps.description)
        self.steps, self.release, self.reads = steps, threading.Event(), []

    def log_probabilities(self, rows, label_ids=None):
        self.release.wait(10)
        self.reads.append([len(row) + 1 for row in rows])
        return self.steps.log_probabilities(rows, label_ids)


SCORED = [["Bilbao", "Zugarramurdi"], ["Sant Cugat del Vallès"], ["Villanueva de la Serena", "Lekeitio"]]


def test_concurrent_scores_and_guesses_are_read_together_and_answer_as_alone():
    run = open_run(None, "cpu")
    held = HeldSteps(run_steps(run))
    scheduler = Scheduler(held)
    try:
        calls = [partial(score_run, run, names, Style(label="Bizkaia")) for names in SCORED]
        calls += [partial(score_run, run, names, Style(), Scoring(explain=True)) for names in SCORED]
        calls += [partial(guess_run, run, names) for names in SCORED]
        futures = [scheduler.read(call) for call in calls]
        time.sleep(0.3)  # every call is waiting for its first pass
        held.release.set()
        answers = [future.result(30) for future in futures]
    finally:
        scheduler.close()
    counted = HeldSteps(run_steps(run))
    counted.release.set()
    alone = [call(steps=counted) for call in calls]
    assert [[a.name for a in answer] for answer in answers] == [[a.name for a in answer] for answer in alone]
    for answer, expected in zip(answers, alone):
        for got, want in zip(answer, expected):
            if hasattr(got, "loss"):  # a scored name
                assert got.loss == pytest.approx(want.loss, rel=1e-6) and got.real == want.real
            else:  # a guess
                assert [label for label, _ in got.labels] == [label for label, _ in want.labels]
                assert [p for _, p in got.labels] == pytest.approx([p for _, p in want.labels], rel=1e-5)
    # The passes of several calls were read together, each read of names of similar lengths.
    assert len(held.reads) < len(counted.reads) and max(map(len, held.reads)) > 52 * 2
    assert all(fits_one_pass(len(widths), min(widths), max(widths)) for widths in held.reads)


def test_a_long_read_holds_no_one_and_a_cancelled_one_stops():
    run = open_run(None, "cpu")
    held = HeldSteps(run_steps(run))
    held.release.set()
    scheduler = Scheduler(held)
    many = [name for name in run.names][:3_000]  # 156,000 (name, province) pairs: many passes
    try:
        long = scheduler.read(partial(guess_run, run, many))
        time.sleep(0.2)
        short = scheduler.read(partial(guess_run, run, ["Lekeitio"]))
        assert short.result(10)[0].real == ("Bizkaia",)
        assert not long.done()  # the short guess was read beside the long one's passes
        assert long.cancel()
        time.sleep(0.5)  # the pass being read, at most
        reads = len(held.reads)
        time.sleep(0.5)
        assert len(held.reads) == reads  # no more passes
    finally:
        scheduler.close()


def test_a_call_that_fails_fails_alone():
    run = open_run(None, "cpu")
    scheduler = Scheduler(run_steps(run))
    try:
        with pytest.raises(UserError, match="Narnia"):
            scheduler.read(partial(score_run, run, ["Bilbao"], Style(label="Narnia"))).result(5)
        assert scheduler.read(partial(score_run, run, ["Bilbao"])).result(5)[0].real == ("Bizkaia",)
    finally:
        scheduler.close()


def test_a_sampled_names_loss_is_its_scored_loss(run):
    # Summed from the logits it was drawn from (before temperature and top-k), with its given start
    # scored apart: the loss a scoring pass gives, to float32's precision.
    settings = Sampling(count=30, seed=7), Style(label="Girona"), Constraints(starts_with="Sant")
    for drawing in (Drawing(), Drawing(temperature=1.7, top_k=4)):
        sampled = [name for batch in sample_run(run, *settings, drawing, losses=True) for name in batch]
        scored = score_run(run, [name.name for name in sampled], Style(label="Girona"))
        assert [name.loss for name in sampled] == pytest.approx([name.loss for name in scored], rel=1e-5)
