"""Diagnostics: hooks, snapshots, the training-time records, verdicts on the real data, the plots,
`villanueva diagnose`, `train --diagnose` and `villanueva lr-find`."""

import json
import math
import os
import shutil
import signal

import pytest
import torch
from PIL import Image

from villanueva.data import Vocab, load_corpus, split_names
from villanueva.diagnostics import SweepRange, lr_sweep, probe_run, take_snapshot
from villanueva.diagnostics.history import update_ratios
from villanueva.diagnostics.hooks import capture, nonlinearity_layers
from villanueva.diagnostics.verdicts import judge, update_ratios_verdict
from villanueva.models import MODELS, build_model, make_config
from villanueva.runs import load_run, read_metrics
from villanueva.training import Callbacks, TrainConfig, TrainingInterrupted, initial_loss, train
from villanueva.training.recording import chunk_means

from helpers import TINY_NAMES

PLOTS = {
    "loss.png",
    "activations.png",
    "saturation.png",
    "activation_gradients.png",
    "weight_gradients.png",
    "embeddings.png",
}


def tiny_data(model_name="deep-mlp", **options):
    vocab = Vocab.from_names(TINY_NAMES)
    torch.manual_seed(0)
    model = build_model(model_name, make_config(model_name, **options), len(vocab))
    return model, vocab, model.examples(TINY_NAMES, vocab)


# --- hooks and snapshots ---


def test_capture_sees_every_nonlinearity_and_leaves_no_hook_behind():
    model, _, (inputs, _) = tiny_data(depth=3, hidden=16)
    with capture(model) as captured:
        model(inputs)
    assert [entry.name for entry in captured] == [name for name, _ in nonlinearity_layers(model)]
    assert len(captured) == 3 and all(entry.kind.name == "tanh" for entry in captured)
    assert not any(module._forward_hooks for module in model.modules())


def test_snapshot_numbers_are_those_of_the_layers():
    model, _, (inputs, targets) = tiny_data(depth=2, hidden=16, init="naive", batchnorm=False)
    snapshot = take_snapshot(model, inputs, targets)
    # By hand: the first tanh is layers[3] (Embedding, Flatten, Linear, Tanh); its output gradient
    # comes from autograd on the same loss.
    outputs = []
    handle = model.layers[3].register_forward_hook(lambda module, args, output: outputs.append(output))
    loss = torch.nn.functional.cross_entropy(model.train()(inputs), targets.long())
    handle.remove()
    (grad,) = torch.autograd.grad(loss, outputs)
    first = snapshot.layers[0]
    assert snapshot.loss == pytest.approx(loss.item())
    assert first.saturated == pytest.approx((outputs[0].abs() > 0.97).float().mean().item())
    assert first.std == pytest.approx(outputs[0].std().item(), rel=1e-5)
    assert first.grad_std == pytest.approx(grad.std().item(), rel=1e-5)
    assert first.dead == int((outputs[0].abs() > 0.99).all(dim=0).sum())
    assert first.saturation_map.shape == (len(inputs), 16)
    assert sum(first.histogram.counts) == outputs[0].numel()
    assert [weight.name for weight in snapshot.weights] == [
        "layers.0.weight",
        "layers.2.weight",
        "layers.4.weight",
        "layers.6.weight",
    ]


def test_snapshot_leaves_the_model_untouched():
    model, _, (inputs, targets) = tiny_data(depth=2, hidden=16)
    before = {name: tensor.clone() for name, tensor in model.state_dict().items()}
    take_snapshot(model.eval(), inputs, targets)
    assert all(torch.equal(before[name], tensor) for name, tensor in model.state_dict().items())
    assert all(p.grad is None for p in model.parameters()) and not model.training


@pytest.mark.parametrize(
    "name", [name for name in MODELS if build_model(name, make_config(name), 5).learns_by_gradient()]
)
def test_every_trained_model_can_be_looked_inside(name):
    model, vocab, (inputs, targets) = tiny_data(name)
    snapshot = take_snapshot(model, inputs[:64], targets[:64])
    assert math.isfinite(snapshot.loss) and snapshot.weights
    assert all(math.isfinite(layer.std) and layer.grad_std is not None for layer in snapshot.layers)
    assert bool(snapshot.layers) == bool(nonlinearity_layers(model))
    verdicts = judge(initial_loss(model, inputs, targets), len(vocab), snapshot, snapshot, None)
    if not snapshot.layers:  # a GRU's tanh and sigmoids are inside torch's kernel
        assert any(v.topic == "layers" and "no nonlinearity layers" in v.text for v in verdicts)


def test_the_default_mlp_exposes_its_tanh():
    model, _, _ = tiny_data("mlp")
    assert [type(module) for _, module in nonlinearity_layers(model)] == [torch.nn.Tanh]


# --- what the trainer records ---


def test_loss_chunks_line_up_across_validations():
    losses = torch.arange(1.0, 11.0)  # steps 1..10
    whole = chunk_means(losses, 0, 4)
    assert whole == [[4, 2.5], [8, 6.5], [10, 9.5]]
    split = chunk_means(losses[:6], 0, 4) + chunk_means(losses[6:], 6, 4)
    assert [end for end, _ in split] == [4, 6, 8, 10]
    assert split[2] == [8, 7.5]  # steps 7 and 8: the chunk ends where the whole run's does


def test_update_ratios_are_recorded_without_changing_training():
    results = []
    for diagnose in (False, True):
        model, vocab, examples = tiny_data(depth=2, hidden=16)
        config = TrainConfig(steps=60, batch_size=32, diagnose=diagnose)
        results.append((train(model, examples, examples, config), model))
    (plain, plain_model), (diagnosed, diagnosed_model) = results
    for name, tensor in plain_model.state_dict().items():
        assert torch.equal(tensor, diagnosed_model.state_dict()[name]), name
    assert "update_ratios" not in plain.history[0]
    ratios = update_ratios(diagnosed.history)
    weights = [name for name, p in diagnosed_model.named_parameters() if p.dim() == 2]
    assert list(ratios) == ["step", *weights]
    assert ratios["step"] == list(range(1, 61))  # 60 steps // 200 points: every step
    assert all(-6 < value < 0 for name in weights for value in ratios[name])
    chunks = [end for record in plain.history for end, _ in record["loss_chunks"]]
    assert chunks == sorted(chunks) and chunks[-1] == 60


def test_an_update_ratio_is_the_actual_change():
    model, _, examples = tiny_data(depth=1, hidden=8)
    before = model.layers[2].weight.detach().clone()
    result = train(model, examples, examples, TrainConfig(steps=1, batch_size=32, diagnose=True))
    change = model.layers[2].weight.detach() - before
    expected = math.log10(change.std().item() / model.layers[2].weight.std().item())
    assert update_ratios(result.history)["layers.2.weight"] == [pytest.approx(expected, abs=1e-5)]


def test_ctrl_c_then_resume_keeps_the_update_ratios_bit_for_bit():
    config = TrainConfig(steps=300, eval_every=100, batch_size=32, diagnose=True)
    model, _, examples = tiny_data(depth=2, hidden=16)
    reference = train(model, examples, examples, config)

    model, _, examples = tiny_data(depth=2, hidden=16)
    saved = []
    training_forwards = iter(range(10**6))

    def ctrl_c_mid_interval(module, args):  # about step 150: some 50 measurements wait unsaved
        if module.training and next(training_forwards) == 150:
            os.kill(os.getpid(), signal.SIGINT)

    hook = model.register_forward_pre_hook(ctrl_c_mid_interval)
    with pytest.raises(TrainingInterrupted):
        train(model, examples, examples, config, Callbacks(on_checkpoint=saved.append))
    hook.remove()
    assert 0 < len(saved[-1].tensors["pending_update_ratios"]) < 100
    model, _, examples = tiny_data(depth=2, hidden=16)
    resumed = train(model, examples, examples, config, resume=saved[-1])
    without_time = [
        [{k: v for k, v in record.items() if k != "seconds"} for record in result.history]
        for result in (reference, resumed)
    ]
    assert without_time[0] == without_time[1]
    assert update_ratios(resumed.history)["step"] == list(range(1, 301))


# --- verdicts on the real data ---


@pytest.fixture(scope="module")
def real_data(notebook_csv):
    corpus = load_corpus(str(notebook_csv), column="Nom")
    vocab = Vocab.from_names(corpus.names)
    split = split_names(corpus.names)
    return vocab, split


def short_run_verdicts(real_data, **options) -> dict:
    """Train deep-mlp for 100 steps with the fast recipe, then judge it as `diagnose` does."""
    vocab, split = real_data
    torch.manual_seed(42)
    model = build_model("deep-mlp", make_config("deep-mlp", **options), len(vocab))
    train_set, val_set = (model.examples(names, vocab) for names in (split.train, split.val))
    batch = torch.randperm(len(train_set[1]), generator=torch.Generator().manual_seed(42))[:256]
    at_init = take_snapshot(model, train_set[0][batch], train_set[1][batch])
    first_loss = initial_loss(model, *train_set)
    result = train(model, train_set, val_set, TrainConfig(steps=100, eval_every=50, diagnose=True))
    at_end = take_snapshot(model, train_set[0][batch], train_set[1][batch])
    verdicts = judge(first_loss, len(vocab), at_init, at_end, update_ratios(result.history))
    return {verdict.topic: verdict for verdict in verdicts}


def test_naive_init_without_batchnorm_is_reported_unhealthy(real_data):
    verdicts = short_run_verdicts(real_data, init="naive", batchnorm=False)
    assert not verdicts["initial loss"].healthy
    assert verdicts["initial loss"].text.startswith("overconfident at init")
    saturation, gradients = verdicts["saturation"], verdicts["gradients"]
    assert not saturation.healthy and "saturated tanh layers: 5 of 5 over 5% at init" in saturation.text
    assert not gradients.healthy and "exploding toward the input" in gradients.text


def test_default_deep_mlp_is_reported_healthy(real_data):
    verdicts = short_run_verdicts(real_data)
    assert all(verdict.healthy for verdict in verdicts.values()), verdicts
    assert "at most 3" in verdicts["saturation"].text  # about 3% saturated at init


def test_update_ratio_verdicts():
    assert update_ratios_verdict(None).healthy is None
    assert update_ratios_verdict({"step": [1, 2], "w": [-3.1, -2.9]}).healthy
    too_fast = update_ratios_verdict({"step": [1, 2], "w": [-1.0, -1.2], "v": [-3.0, -3.0]})
    assert not too_fast.healthy and "too large (w -1.1)" in too_fast.text and "v " not in too_fast.text
    assert "too small" in update_ratios_verdict({"step": [1], "w": [-5.0]}).text


# --- the CLI ---


def assert_png(path):
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size[0] >= 600 and image.size[1] >= 400
        image.verify()


def test_train_diagnose_writes_every_plot_and_the_numbers(cli, tiny_names_file, tmp_path):
    out = tmp_path / "run"
    result = cli(
        "train",
        "--data",
        str(tiny_names_file),
        "--model",
        "deep-mlp",
        "--depth",
        "2",
        "--hidden",
        "32",
        "--steps",
        "60",
        "--diagnose",
        "--out",
        str(out),
        "--quiet",
    )
    assert result.code == 0, result.err
    assert f"diagnosis of {out}:" in result.out and "update ratios" in result.out
    plots = {path.name for path in (out / "plots").iterdir()}
    assert plots == PLOTS | {"update_ratios.png"}
    for name in plots:
        assert_png(out / "plots" / name)
    report = json.loads((out / "diagnostics.json").read_text())
    assert sorted(report["plots"]) == sorted(f"plots/{name}" for name in plots)
    recorded = read_metrics(out)[0]["initial_loss"]
    assert report["initial_loss"]["loss"] == recorded  # the untrained model, rebuilt exactly
    assert [layer["name"] for layer in report["at_init"]["layers"]] == ["layers.4", "layers.7"]
    assert len(report["update_ratios"]["step"]) == 60
    assert {verdict["topic"] for verdict in report["verdicts"]} >= {
        "initial loss",
        "saturation",
        "gradients",
        "update ratios",
    }


def test_diagnose_a_run_trained_without_diagnose(cli, tiny_run, tmp_path):
    run = shutil.copytree(tiny_run, tmp_path / "run")  # the shared run stays as it was
    result = cli("diagnose", str(run))
    assert result.code == 0, result.err
    assert "not recorded: train with --diagnose" in result.out
    assert {path.name for path in (run / "plots").iterdir()} == PLOTS
    probes = [probe_run(load_run(run)) for _ in range(2)]
    assert probes[0].at_init.to_json() == probes[1].at_init.to_json()  # deterministic
    assert probes[0].at_end.to_json() == probes[1].at_end.to_json()


def test_diagnose_mistakes(cli, tmp_path, tiny_names_file):
    assert_one_line_error(cli("diagnose", str(tmp_path / "nowhere")), "run directory not found")
    bigram = tmp_path / "bigram"
    assert (
        cli(
            "train", "--model", "bigram", "--data", str(tiny_names_file), "--out", str(bigram), "--quiet"
        ).code
        == 0
    )
    assert_one_line_error(cli("diagnose", str(bigram)), "fitted by counting")
    assert not (bigram / "plots").exists() and not (bigram / "diagnostics.json").exists()
    refused = tmp_path / "refused"
    assert_one_line_error(
        cli(
            "train",
            "--model",
            "bigram",
            "--diagnose",
            "--data",
            str(tiny_names_file),
            "--out",
            str(refused),
            "--quiet",
        ),
        "fitted by counting",
    )
    assert not refused.exists()


def test_lr_find_plots_and_suggests(cli, tiny_names_file, tmp_path):
    out = tmp_path / "sweeps" / "lr.png"
    result = cli(
        "lr-find", "--data", str(tiny_names_file), "--hidden", "16", "--steps", "60", "--out", str(out)
    )
    assert result.code == 0, result.err
    suggested = float(result.out.split("suggested lr ")[1].split()[0])
    assert 1e-5 <= suggested <= 1.0
    assert f"plot saved in {out}" in result.out
    assert_png(out)


def test_lr_sweep_stops_when_the_loss_blows_up():
    model, _, examples = tiny_data("mlp", hidden=16)
    sweep = lr_sweep(model, examples, TrainConfig(optimizer="sgd", batch_size=32), SweepRange(1e-3, 1e4, 200))
    assert len(sweep.lrs) < 200 and sweep.lrs == sorted(sweep.lrs)
    assert sweep.suggested == sweep.lowest_lr / 10 and sweep.lowest_lr < 1e4


def test_lr_find_mistakes(cli, tiny_names_file, tmp_path):
    data = ["--data", str(tiny_names_file)]
    assert_one_line_error(cli("lr-find", *data, "--out", str(tmp_path / "lr.txt")), ".png")
    assert_one_line_error(cli("lr-find", *data, "--min-lr", "1", "--max-lr", "0.1"), "--min-lr")
    assert_one_line_error(cli("lr-find", *data, "--steps", "1"), "--steps")
    assert_one_line_error(
        cli("lr-find", *data, "--model", "bigram", "--out", str(tmp_path / "b.png")), "counting"
    )
    assert not (tmp_path / "b.png").exists()


def assert_one_line_error(result, words: str) -> None:
    assert result.code == 2, (result.code, result.err)
    assert words in result.err and "Traceback" not in result.err
    assert len(result.err.strip().splitlines()) == 1, result.err


def test_help_texts(cli):
    for command in ("diagnose", "lr-find"):
        result = cli(command, "--help")
        assert result.code == 0 and "usage: villanueva " + command in result.out
    assert "--diagnose" in cli("train", "--help").out


@pytest.mark.parametrize("depth", [1, 5])  # one map is the narrowest figure
def test_the_saturation_maps_title_fits_its_figure(depth):
    from villanueva.diagnostics.plots import saturation_maps

    model, _, (inputs, targets) = tiny_data("deep-mlp", depth=depth, hidden=16)
    snapshot = take_snapshot(model, inputs[:64], targets[:64])
    figure = saturation_maps((snapshot, snapshot))
    figure.canvas.draw()
    title, page = figure._suptitle.get_window_extent(), figure.bbox
    assert page.x0 <= title.x0 and title.x1 <= page.x1 and title.y1 <= page.y1
