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
- Scoring and guessing requests run on a pool of threads, their passes read together by a reader
  thread of their own (inference/reading.py). Run between the steps on the sampling thread, a call
  of 40 ms (scoring 5 names with 52 provinces summed out) made every sampling request beside it wait
  40 ms a step: 16 clients sending the page's mix waited 880 ms at p99, against 380 ms one request
  at a time.
"""

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from concurrent.futures import Future, InvalidStateError, ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import islice

import numpy as np

from villanueva.inference.reading import Cancelled, Reader
from villanueva.inference.sample import Sampled, Sampler, draw_together
from villanueva.inference.steps import Steps

# Rows of one request in one step: an equal part of STEP_ROWS, and at least MIN_SHARE. Alone, a
# request draws in steps large enough to be efficient; beside 16 requests of 20 names (320 rows), a
# request of thousands of candidates adds 60 rows to each step, not thousands.
STEP_ROWS, MIN_SHARE = 1024, 32
# Scoring, guessing and guided sampling calls at work at once. Their Python runs while the reader and
# the sampling thread are in the model (which releases the GIL): enough for 16 clients' calls to
# wait in the same read.
CALLERS = 16


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
        self._reader = Reader(steps)
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
        self._calls.submit(self._called, function, call, self._reader.steps_for(call))
        return call

    def _called(self, function: Callable, call: Future, steps: Steps) -> None:
        try:
            if not call.done():
                _resolve(call, function(steps=steps))
        except Cancelled:
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
        self._reader.close()

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
