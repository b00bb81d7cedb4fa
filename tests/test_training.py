"""The trainer's parts on their own: the learning-rate schedule and the stopping signals."""

import os
import signal
import time

import pytest

from villanueva.signals import StopAtStep, Stopped, stopping
from villanueva.training import TrainConfig
from villanueva.training.optimizer import lr_factor


def test_the_schedule_warms_up_then_decays_to_its_final_factor():
    cosine = TrainConfig(steps=100, warmup=10, schedule="cosine", final_lr_factor=0.1)
    factors = [lr_factor(cosine, step) for step in range(100)]
    assert factors[:10] == [pytest.approx((step + 1) / 10) for step in range(10)]
    assert factors[10] == 1.0 and factors[-1] == pytest.approx(0.1, abs=1e-3)
    assert factors[10:] == sorted(factors[10:], reverse=True)
    stepped = TrainConfig(steps=100, schedule="step", decay_at=0.75, final_lr_factor=0.1)
    assert [lr_factor(stepped, step) for step in (0, 74, 75, 99)] == [1.0, 1.0, 0.1, 0.1]
    assert {lr_factor(TrainConfig(schedule="constant"), step) for step in range(0, 6000, 100)} == {1.0}


def test_training_notes_the_first_stopping_signal_and_the_next_stops_at_once():
    before = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGHUP)}
    with stopping():  # as the CLI's main
        with pytest.raises(Stopped) as stopped:
            with StopAtStep() as stop:
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(0.1)  # handled in the main thread between two bytecodes
                assert stop.signum == signal.SIGTERM  # noted, for the loop to stop at its step's end
                os.kill(os.getpid(), signal.SIGHUP)
                time.sleep(10)
        assert stopped.value.signum == signal.SIGHUP
    assert {signum: signal.getsignal(signum) for signum in before} == before
