"""Requests decoded together: a scheduler per run, whose thread owns the run's model steps and
decodes every sampling request in flight in one model call per step (continuous batching, as
text-generation servers do), so that concurrent requests share each call's fixed cost.

- A request joins at the next step and leaves when it is done: there is no batch to fill and no
  wait for one. Its names come from its own `Sampler` (inference/sample.py), with its own
  generator, so they are the names `sample_run` gives alone for the same seed.
- Each step decodes at most a share of each request's rows (STEP_ROWS over the requests in flight):
  a request drawing thousands of candidates (a constraint few names meet) advances a share at a
  time, and a step costs the others little more than without it. The Sampler draws a position's
  rows in order whatever the slices.
- The names of the rounds that end in the same step are described together (the losses of given
  starts scored in one pass).
- A request has a deadline: past it, it returns the names found so far and its report says so.
  A request whose future is cancelled (its client went away) is dropped at the next step.
- Scoring and guessing requests are read together too, on a thread of their own: each runs on a
  thread of a pool (its own Python: cleaning, Bayes' rule, grouping) with steps (`_Reading`) that
  hand its passes to the reader, which reads the first pass waiting (the oldest call's, as ranked
  by PASSES_IN_TURN) together with the others that fit in one pass with it (names of similar
  lengths: `fits_one_pass`), in one model call. A read's rows do not change a name's score but for
  float32 rounding. Run between the steps on the sampling thread, a call of 40 ms (scoring 5 names
  with 52 provinces summed out) made every sampling request beside it wait 40 ms a step: 16 clients
  sending the page's mix waited 880 ms at p99, against 380 ms one request at a time.
"""

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, InvalidStateError, ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import count, islice

import numpy as np

from villanueva.inference.sample import Sampled, Sampler, draw_together
from villanueva.inference.score import fits_one_pass
from villanueva.inference.steps import Steps

# Rows of one request in one step: an equal part of STEP_ROWS, and at least MIN_SHARE. Alone, a
# request draws in steps large enough to be efficient; beside 16 requests of 20 names (320 rows), a
# request of thousands of candidates adds 60 rows to each step, not thousands.
STEP_ROWS, MIN_SHARE = 1024, 32
# Scoring, guessing and guided sampling calls at work at once. Their Python runs while the reader and
# the sampling thread are in the model (which releases the GIL): enough for 16 clients' calls to
# wait in the same read.
CALLERS = 16
# Passes of a scoring or guessing call read in the order the calls came, before it waits behind the
# newer calls' first passes. A call's passes come one after another (one per length of name), so
# reading the oldest call's first keeps a page's score (3 passes) from waiting behind every other
# call three times; a long list still holds no one for more than this many passes.
PASSES_IN_TURN = 8


@dataclass(eq=False)
class _Sampling:
    """A sampling request in flight, and where it is in its current round."""

    sampler: Sampler
    future: Future
    deadline: float
    time_limit: float
    names: list = field(default_factory=list)
    size: int = 0  # rows of the current round
    labels: np.ndarray | None = None  # their label ids, for a conditioned model
    unstarted: int = 0  # rows of the round's first position not started yet
    position: int = 0  # the sampler's position that `todo` and `decoded` are of
    todo: object = None  # after the first position: the state of the rows not decoded yet
    decoded: list = field(default_factory=list)  # the states after the rows decoded at this position


@dataclass(eq=False)
class _Pass:
    """Names a scoring or guessing call asks to be read, waiting for the reader."""

    rows: list[list[int]]
    labels: np.ndarray | None
    call: Future  # of the request it is for: cancelled (its client went away), the pass is not read
    rank: tuple[int, int]  # the order passes are read in (PASSES_IN_TURN)
    answer: Future = field(default_factory=Future)

    def __post_init__(self):  # its shortest and longest rows, with the start token
        self.narrowest, self.widest = min(map(len, self.rows)) + 1, max(map(len, self.rows)) + 1


class _Cancelled(Exception):
    """Raised in a call whose request was cancelled, at its next pass."""


class _Reading(Steps):
    """The steps a scoring or guessing call reads names with on a scheduler: its passes are read by
    the scheduler's reader, with those of the other calls waiting."""

    def __init__(self, scheduler: "Scheduler", call: Future, number: int):
        super().__init__(scheduler.steps.graph, scheduler.steps.description)
        self._scheduler, self._call, self._number = scheduler, call, number
        self._handed = 0

    def log_probabilities(self, rows, label_ids=None) -> np.ndarray:
        return next(self.read_passes([(rows, label_ids)]))

    def read_passes(self, passes) -> Iterator[np.ndarray]:
        """Handed PASSES_IN_TURN at a time: the reader reads them one read after another, rather
        than each after a round trip through this call's thread and every pass waiting then."""
        passes = iter(passes)
        while few := list(islice(passes, PASSES_IN_TURN)):
            handed = [self._pass(rows, label_ids) for rows, label_ids in few]
            self._scheduler._hand_passes(handed)
            for asked in handed:
                yield asked.answer.result()

    def _pass(self, rows, label_ids) -> _Pass:
        self._handed += 1
        return _Pass(rows, label_ids, self._call, ((self._handed - 1) // PASSES_IN_TURN, self._number))


class Scheduler:
    """A thread that runs `steps` for every sampling request handed to it, one that reads the names
    of every scoring and guessing call at work together (`read`), and a pool of threads for those
    calls; their results come back as futures. `describe` turns sampled names into what a sampling
    request answers (the same names, by default): it is called once a step for the names of every
    round that ended."""

    def __init__(
        self,
        steps: Steps,
        describe: Callable[[list[Sampled]], list] = list,
        step_rows: int = STEP_ROWS,
        min_share: int = MIN_SHARE,
    ):
        self.steps, self.describe = steps, describe
        self.step_rows, self.min_share = step_rows, min_share
        self._arrived: deque = deque()  # requests the thread has not taken yet
        self._wake = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._work, name="villanueva-scheduler", daemon=True)
        self._thread.start()
        self._passes: list[_Pass] = []
        self._numbers = count()  # of the calls, in the order they came
        self._passes_waiting = threading.Condition()
        self._reader = threading.Thread(target=self._read, name="villanueva-reader", daemon=True)
        self._reader.start()
        self._calls = ThreadPoolExecutor(CALLERS, thread_name_prefix="villanueva-calls")

    def sample(self, sampler: Sampler, time_limit: float) -> Future:
        """A future of the names `sampler` finds (described); after `time_limit` seconds, of those
        found by then (and `sampler.report.time_limit` is set). Cancelling the future stops the work."""
        future: Future = Future()
        self._hand_over(_Sampling(sampler, future, time.monotonic() + time_limit, time_limit))
        return future

    def sample_alone(self, steps: Steps, sampler: Sampler, time_limit: float) -> Future:
        """`sample` for a request whose rows the scheduler's steps cannot decode (`steps`: guided
        by a style strength, two rows a name): decoded by itself on a calls thread, within the same
        time limit and stopped by the same cancelling."""
        future: Future = Future()
        request = _Sampling(sampler, future, time.monotonic() + time_limit, time_limit)
        self._calls.submit(self._alone, steps, request)
        return future

    def _alone(self, steps: Steps, request: _Sampling) -> None:
        sampler = request.sampler
        try:
            while not sampler.finished:
                state = steps.start(*sampler.begin())
                while sampler.in_round:
                    if request.future.done():  # cancelled
                        return
                    if time.monotonic() >= request.deadline:
                        sampler.report.time_limit = request.time_limit
                        return _resolve(request.future, request.names)
                    next_ids, keep = sampler.draw(steps.logits(state))
                    if sampler.in_round:
                        state = steps.extend(state, next_ids, keep)
                request.names += self.describe(sampler.end())
            _resolve(request.future, request.names)
        except Exception as error:
            _fail(request.future, error)

    def read(self, function: Callable) -> Future:
        """A future of `function(steps=...)` (score_run or guess_run with a request's settings),
        called on a thread of its own with steps whose passes are read with the other calls'.
        Cancelling the future stops the work at its next pass."""
        call: Future = Future()
        self._calls.submit(self._called, function, call, next(self._numbers))
        return call

    def _called(self, function: Callable, call: Future, number: int) -> None:
        try:
            if not call.done():
                _resolve(call, function(steps=_Reading(self, call, number)))
        except _Cancelled:
            pass
        except Exception as error:
            _fail(call, error)

    def close(self) -> None:
        """Stop the threads once the work they were given is done."""
        with self._wake:
            self._closed = True
            self._wake.notify()
        self._thread.join()
        self._calls.shutdown()  # the calls' passes are read first: the reader stops after them
        with self._passes_waiting:
            self._passes_waiting.notify()
        self._reader.join()

    def _hand_passes(self, passes: list[_Pass]) -> None:
        with self._passes_waiting:
            self._passes.extend(passes)
            self._passes_waiting.notify()

    def _read(self) -> None:
        while True:
            with self._passes_waiting:
                while not (self._passes or self._closed):
                    self._passes_waiting.wait()
                if not self._passes:
                    return
                taken = self._taken()
            for asked in taken:
                if asked.call.done():
                    asked.answer.set_exception(_Cancelled())
            taken = [asked for asked in taken if not asked.call.done()]
            if taken:
                _read_together(self.steps, taken)

    def _taken(self) -> list[_Pass]:
        """The first pass waiting (by rank), and those after it that fit in one pass with it
        (`fits_one_pass`: mixing short names with long ones would pad the short ones, several times
        their work)."""
        first, *others = sorted(self._passes, key=lambda asked: asked.rank)
        taken, left = [first], []
        rows, narrowest, widest = len(first.rows), first.narrowest, first.widest
        for asked in others:
            together = (rows + len(asked.rows), min(narrowest, asked.narrowest), max(widest, asked.widest))
            if fits_one_pass(*together):
                taken.append(asked)
                rows, narrowest, widest = together
            else:
                left.append(asked)
        self._passes = left
        return taken

    def _hand_over(self, work: _Sampling) -> None:
        with self._wake:
            self._arrived.append(work)
            self._wake.notify()

    def _work(self) -> None:
        sampling: list[_Sampling] = []
        while True:
            with self._wake:
                while not (sampling or self._arrived or self._closed):
                    self._wake.wait()
                if self._closed and not (sampling or self._arrived):
                    return
                sampling += self._arrived
                self._arrived.clear()
            now = time.monotonic()
            for request in sampling:
                if now >= request.deadline and not request.future.done():
                    request.sampler.report.time_limit = request.time_limit
                    _resolve(request.future, request.names)
            # Done, timed out, or cancelled by the route when its client went away.
            sampling = [request for request in sampling if not request.future.done()]
            if sampling:
                try:
                    self._step(sampling)
                except Exception as error:  # every request of the step had rows in the failed call
                    for request in sampling:
                        _fail(request.future, error)

    def _step(self, sampling: list[_Sampling]) -> None:
        """Decode a share of each request's rows of its current position in one model call."""
        for request in sampling:
            if not request.sampler.in_round:
                request.size, _, request.labels = request.sampler.begin()
                request.unstarted, request.position = request.size, 0
        requests, states, counts = self._shares(sampling)
        joined = self.steps.joined(states)
        samplers = [request.sampler for request in requests]
        next_ids, keep = draw_together(samplers, self.steps.logits(joined), counts)
        kept = np.add.reduceat(keep.astype(np.int64), np.cumsum([0, *counts[:-1]])).tolist()
        extended = self.steps.split(self.steps.extend(joined, next_ids, keep), kept) if keep.any() else None
        for i, request in enumerate(requests):
            if kept[i]:
                request.decoded.append(extended[i])
            if request.sampler.position != request.position and request.sampler.in_round:
                request.todo, request.decoded = self.steps.joined(request.decoded), []
                request.position = request.sampler.position
        self._end_rounds([request for request in requests if not request.sampler.in_round])

    def _shares(self, sampling: list[_Sampling]) -> tuple[list[_Sampling], list, list[int]]:
        """The requests, the states of their rows to decode in this step (a share of each) and how
        many rows each. A round's first rows are started here, those of the same prefix together."""
        shares, starting = [], defaultdict(list)
        share = max(self.min_share, self.step_rows // len(sampling))
        for request in sampling:
            count = min(share, request.sampler.rows_left)
            if request.unstarted:
                starting[tuple(request.sampler.prefix_ids)].append((request, count))
            elif count == request.sampler.rows_left:  # the rest of the position: no copy
                shares.append((request, request.todo, count))
                request.todo = None
            else:
                state, request.todo = self.steps.split(
                    request.todo, [count, request.sampler.rows_left - count]
                )
                shares.append((request, state, count))
        for prefix, group in starting.items():
            counts = [count for _, count in group]
            labels = [_started(request, count) for request, count in group]
            state = self.steps.start(
                sum(counts), list(prefix), None if labels[0] is None else np.concatenate(labels)
            )
            shares += [
                (request, part, count)
                for (request, count), part in zip(group, self.steps.split(state, counts))
            ]
        requests, states, counts = zip(*shares)
        return list(requests), list(states), list(counts)

    def _end_rounds(self, over: list[_Sampling]) -> None:
        """The names of the rounds just over, described together; the answers of the samples done."""
        found = [request.sampler.end() for request in over]
        described = iter(self.describe([name for names in found for name in names]) if any(found) else [])
        for request, names in zip(over, found):
            request.todo, request.decoded = None, []
            request.names += islice(described, len(names))
            if request.sampler.finished:
                _resolve(request.future, request.names)


def _read_together(steps: Steps, passes: list[_Pass]) -> None:
    """Each pass's log-probabilities, from one model call for all of them (labelled or not, as a
    run's calls all are)."""
    labels = None if passes[0].labels is None else np.concatenate([asked.labels for asked in passes])
    try:
        read = steps.log_probabilities([row for asked in passes for row in asked.rows], labels)
    except Exception as error:
        for asked in passes:
            asked.answer.set_exception(error)
        return
    sizes = [sum(len(row) + 1 for row in asked.rows) for asked in passes]
    for asked, part in zip(passes, np.split(read, np.cumsum(sizes)[:-1])):
        asked.answer.set_result(part)


def _started(request: _Sampling, count: int) -> np.ndarray | None:
    """The label ids of the next `count` rows of a request's round to start (counting them started)."""
    first = request.size - request.unstarted
    request.unstarted -= count
    return None if request.labels is None else request.labels[first : first + count]


# A future cancelled by its route (its client went away) between the thread's check and its answer
# takes no answer.
def _resolve(future: Future, result) -> None:
    try:
        future.set_result(result)
    except InvalidStateError:
        pass


def _fail(future: Future, error: Exception) -> None:
    try:
        future.set_exception(error)
    except InvalidStateError:
        pass
