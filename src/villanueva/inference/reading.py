"""Scoring and guessing requests read together (a server's; inference/batching.py runs them).

Scoring and guessing are whole-name passes, not steps: each request runs on a thread of its own
(its own Python: cleaning, Bayes' rule, grouping) with steps (`Reader.steps_for`) that hand its
passes to one reader thread. The reader reads the first pass waiting (the oldest call's, as ranked
by PASSES_IN_TURN) together with the others that fit in one pass with it (names of similar lengths:
`fits_one_pass`), in one model call, and splits the answer back. A read's rows do not change a
name's score but for float32 rounding. Measured: taking passes first come first whatever their
lengths was slower than one request at a time (a score's p99 859 to 948 ms against 428 to 440, 16
clients sending the page's mix): a long name's pass padded the short names read with it to its
length, several times their work.
"""

import threading
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from itertools import count, islice

import numpy as np

from villanueva.inference.score import fits_one_pass
from villanueva.inference.steps import Steps

# Passes of a scoring or guessing call read in the order the calls came, before it waits behind the
# newer calls' first passes. A call's passes come one after another (one per length of name), so
# reading the oldest call's first keeps a page's score (3 passes) from waiting behind every other
# call three times; a long list still holds no one for more than this many passes.
PASSES_IN_TURN = 8


class Cancelled(Exception):
    """Raised in a call whose request was cancelled, at its next pass."""


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


class Reader:
    """A thread that reads the passes of every call at work on `steps` together."""

    def __init__(self, steps: Steps):
        self.steps = steps
        self._passes: list[_Pass] = []
        self._numbers = count()  # of the calls, in the order they came
        self._closed = False
        self._passes_waiting = threading.Condition()
        self._thread = threading.Thread(target=self._read, name="villanueva-reader", daemon=True)
        self._thread.start()

    def steps_for(self, call: Future) -> Steps:
        """The steps a call (whose request's future is `call`) reads its names with, ranked after
        the calls before it."""
        return _Reading(self, call, next(self._numbers))

    def close(self) -> None:
        """Stop the thread once the passes handed to it are read."""
        with self._passes_waiting:
            self._closed = True
            self._passes_waiting.notify()
        self._thread.join()

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
            live = []
            for asked in taken:  # each checked once: a pass is either refused or read
                if asked.call.done():
                    asked.answer.set_exception(Cancelled())
                else:
                    live.append(asked)
            if live:
                _read_together(self.steps, live)

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


class _Reading(Steps):
    """The steps a scoring or guessing call reads names with: its passes are read by the reader,
    with those of the other calls waiting."""

    def __init__(self, reader: Reader, call: Future, number: int):
        super().__init__(reader.steps.graph, reader.steps.description)
        self._reader, self._call, self._number = reader, call, number
        self._handed = 0

    def log_probabilities(self, rows, label_ids=None) -> np.ndarray:
        return next(self.read_passes([(rows, label_ids)]))

    def read_passes(self, passes) -> Iterator[np.ndarray]:
        """Handed PASSES_IN_TURN at a time: the reader reads them one read after another, rather
        than each after a round trip through this call's thread and every pass waiting then."""
        passes = iter(passes)
        while few := list(islice(passes, PASSES_IN_TURN)):
            handed = [self._pass(rows, label_ids) for rows, label_ids in few]
            self._reader._hand_passes(handed)
            for asked in handed:
                yield asked.answer.result()

    def _pass(self, rows, label_ids) -> _Pass:
        self._handed += 1
        return _Pass(rows, label_ids, self._call, ((self._handed - 1) // PASSES_IN_TURN, self._number))


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
