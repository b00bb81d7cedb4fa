"""The trainer's parts on their own: the learning-rate schedule and the stopping signals."""

import pytest

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
