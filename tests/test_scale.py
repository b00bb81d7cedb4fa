"""Training on lists of millions: compact examples, BatchNorm calibrated in chunks, checkpoints
whose size does not grow with the data."""

import copy

import pytest
import torch

from villanueva.data import Vocab
from villanueva.models import build_model, make_config
from villanueva.models.layers import BatchNorm1d
from villanueva.runs import read_metrics
from villanueva.training import Callbacks, TrainConfig, calibrate_batchnorm, train

from helpers import TINY_NAMES


def tiny(name: str, **options):
    vocab = Vocab.from_names(TINY_NAMES)
    torch.manual_seed(0)
    model = build_model(name, make_config(name, **options), len(vocab))
    return model, model.examples(TINY_NAMES, vocab)


@pytest.mark.parametrize("name", ["mlp-bn", "deep-mlp", "wavenet"])
def test_calibration_in_chunks_equals_the_notebooks_single_batch(name):
    model, (contexts, _) = tiny(name, hidden=16)
    with torch.no_grad():  # perturb the weights, so that every layer's statistics matter
        for parameter in model.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.3)
    single = copy.deepcopy(model)
    norms = [module for module in single.modules() if isinstance(module, BatchNorm1d)]
    for norm in norms:  # the notebooks: one forward of the whole set, in training mode
        norm.momentum = 1.0
    with torch.no_grad():
        single.train()(contexts.long())
    calibrate_batchnorm(model, contexts, rows=37)  # 417 examples in 12 uneven chunks
    chunked = [module for module in model.modules() if isinstance(module, BatchNorm1d)]
    assert len(chunked) == len(norms) > 0
    for ours, theirs in zip(chunked, norms):
        torch.testing.assert_close(ours.running_mean, theirs.running_mean, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(ours.running_var, theirs.running_var, rtol=1e-5, atol=1e-6)
        assert ours.momentum == 0.1


@pytest.mark.parametrize("name", ["mlp", "gru"])
def test_compact_examples_train_to_the_same_bits_as_int64_ones(name):
    config = TrainConfig(steps=40, eval_every=20, batch_size=16, lr=0.01)
    model, examples = tiny(name, hidden=16)
    assert all(tensor.element_size() == 1 for tensor in examples)  # uint8 inputs, int8 targets
    compact = train(model, examples, examples, config)
    model, examples = tiny(name, hidden=16)
    wide = train(model, tuple(t.long() for t in examples), tuple(t.long() for t in examples), config)
    assert [r["val_loss"] for r in compact.history] == [r["val_loss"] for r in wide.history]
    assert all(torch.equal(compact.best_state[k], wide.best_state[k]) for k in wide.best_state)


def test_a_checkpoint_keeps_the_generator_not_the_batch_order():
    config = TrainConfig(steps=60, eval_every=10, batch_size=8)  # an epoch of 417 takes 52 steps
    model, examples = tiny("mlp", hidden=16)
    saved = []
    # Copies: until it is written, a checkpoint shares tensors and lists with the live loop.
    callbacks = Callbacks(on_checkpoint=lambda checkpoint: saved.append(copy.deepcopy(checkpoint)))
    reference = train(model, examples, examples, config, callbacks)
    middle = saved[3]  # step 30, in the middle of the first epoch
    assert middle.meta["step"] == 30 and 0 < middle.meta["cursor"] < len(examples[1])
    assert "order" not in middle.tensors and middle.tensors["order_drawn_from"].numel() < 6_000
    model, examples = tiny("mlp", hidden=16)
    resumed = train(model, examples, examples, config, resume=middle)
    assert [r["val_loss"] for r in resumed.history] == [r["val_loss"] for r in reference.history]


def test_tensorboard_logs_the_same_numbers_as_metrics_jsonl(cli, tiny_names_file, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out, logs = tmp_path / "run", tmp_path / "tb"
    train_args = ["--data", str(tiny_names_file), "--steps", "60", "--eval-every", "20", "--hidden", "16"]
    result = cli("train", *train_args, "--diagnose", "--out", str(out), "--tensorboard", str(logs), "--quiet")
    assert result.code == 0, result.err
    events = EventAccumulator(str(logs))
    events.Reload()
    records = [r for r in read_metrics(out) if "val_loss" in r and "step" in r]
    logged = {tag: [(e.step, e.value) for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]}
    assert logged["loss/val"] == [(r["step"], pytest.approx(r["val_loss"])) for r in records]
    assert [step for step, _ in logged["lr"]] == [20, 40, 60]
    assert logged["loss/train"][0][0] == 0 and len(logged["loss/train"]) > 3  # initial loss, then chunks
    assert any(tag.startswith("update_ratio_log10/") for tag in logged)


def test_tensorboard_mistakes_stop_before_the_run_starts(cli, tiny_names_file, tmp_path):
    afile = tmp_path / "file"
    afile.write_text("")
    out = tmp_path / "run"
    tensorboard = ["--tensorboard", str(afile / "tb")]
    result = cli("train", "--data", str(tiny_names_file), "--out", str(out), *tensorboard)
    assert result.code == 2 and f"cannot create --tensorboard {afile / 'tb'}: Not a directory" in result.err
    assert not out.exists()
    proc = cli("train", "--data", str(tiny_names_file), "--out", str(out), "--tensorboard", "/proc/tb")
    assert proc.code == 2 and "cannot create --tensorboard /proc/tb" in proc.err
    assert not out.exists()
