"""mlp-bn and deep-mlp: the notebooks' init and BatchNorm lessons, checked on the real data."""

import math

import pytest
import torch

from villanueva.data import Vocab, load_corpus, split_names
from villanueva.data.tensors import context_windows
from villanueva.diagnostics import take_snapshot
from villanueva.models import build_model, make_config
from villanueva.models.layers import BatchNorm1d, Linear
from villanueva.training import calibrate_batchnorm, initial_loss


@pytest.fixture(scope="module")
def notebook_data(notebook_csv):
    corpus = load_corpus(str(notebook_csv), column="Nom")
    vocab = Vocab.from_names(corpus.names)
    split = split_names(corpus.names)
    return vocab, context_windows(split.train, vocab, 3)


def untrained(name, vocab, **options):
    torch.manual_seed(0)
    return build_model(name, make_config(name, **options), len(vocab))


@pytest.mark.parametrize("name", ["mlp-bn", "deep-mlp"])
def test_default_init_starts_near_a_uniform_guess(notebook_data, name):
    vocab, (contexts, targets) = notebook_data
    loss = initial_loss(untrained(name, vocab), contexts, targets)
    assert abs(loss - math.log(29)) < 0.1, loss


@pytest.mark.parametrize("name", ["mlp-bn", "deep-mlp"])
def test_naive_init_without_batchnorm_starts_far_above(notebook_data, name):
    vocab, (contexts, targets) = notebook_data
    loss = initial_loss(untrained(name, vocab, init="naive", batchnorm=False), contexts, targets)
    assert loss > 3 * math.log(29), loss


def test_naive_init_saturates_the_tanh(notebook_data):
    vocab, (contexts, _) = notebook_data
    model = untrained("deep-mlp", vocab, init="naive", batchnorm=False)
    hidden = model.layers[:4](contexts[:1000])  # Embedding, Flatten, Linear, Tanh
    assert (hidden.abs() > 0.97).float().mean() > 0.5
    healthy = untrained("deep-mlp", vocab).train().layers[:5](contexts[:1000])  # ... BatchNorm, Tanh
    assert (healthy.abs() > 0.97).float().mean() < 0.1


def test_switches_shape_the_network():
    vocab = Vocab.from_names(["abc"])
    plain = untrained("deep-mlp", vocab, batchnorm=False, depth=2, hidden=8)
    linears = [layer for layer in plain.layers if isinstance(layer, Linear)]
    assert len(linears) == 3 and all(layer.bias is not None for layer in linears)
    assert not any(isinstance(layer, BatchNorm1d) for layer in plain.layers)
    normed = untrained("deep-mlp", vocab, depth=2, hidden=8)
    assert [type(layer).__name__ for layer in normed.layers].count("BatchNorm1d") == 3
    assert normed.layers[2].bias is None  # BatchNorm makes a bias before it redundant
    mlp_bn = untrained("mlp-bn", vocab, hidden=8)
    assert mlp_bn.layers[-1].weight.abs().max() < 0.01  # small output init: near-uniform start


def test_eval_mode_samples_a_single_name():
    vocab = Vocab.from_names(["abc"])
    model = untrained("deep-mlp", vocab, hidden=8).eval()
    assert model(torch.zeros(1, 3, dtype=torch.long)).shape == (1, len(vocab))


def test_calibration_sets_the_training_set_statistics(notebook_data):
    vocab, (contexts, _) = notebook_data
    model = untrained("mlp-bn", vocab)
    sample = contexts[:5000]
    calibrate_batchnorm(model, sample)
    norm = model.layers[3]
    with torch.no_grad():
        pre_activations = model.layers[:3](sample)
    torch.testing.assert_close(norm.running_mean, pre_activations.mean(0))
    torch.testing.assert_close(norm.running_var, pre_activations.var(0), rtol=1e-4, atol=1e-5)
    assert norm.momentum == 0.1  # restored


def test_train_reports_the_initial_loss(cli, tiny_names_file, tmp_path):
    def first_loss(*options):
        result = cli(
            "train",
            "--model",
            "deep-mlp",
            "--depth",
            "2",
            "--hidden",
            "32",
            "--steps",
            "3",
            "--data",
            str(tiny_names_file),
            "--out",
            str(tmp_path / "-".join(options or ["default"])),
            "--quiet",
            *options,
        )
        assert result.code == 0, result.err
        line = next(line for line in result.out.splitlines() if line.startswith("initial loss"))
        return float(line.split()[2]), math.log(float(line.split("ln ")[1].split()[0]))

    loss, uniform = first_loss()
    assert abs(loss - uniform) < 0.2
    loss, uniform = first_loss("--init", "naive", "--no-batchnorm")
    assert loss > 2 * uniform


def tanh_output_gradient_stds(model, contexts, targets) -> list[float]:
    """The spread of d(loss)/d(output) of every tanh layer, first layer first."""
    return [layer.grad_std for layer in take_snapshot(model, contexts, targets).layers]


def test_without_the_fixes_gradient_scale_drifts_across_depth(notebook_data):
    """Naive init, no BatchNorm: each tanh layer scales the backward signal by a different
    factor, so layers far apart learn at very different rates; Kaiming + BatchNorm keeps it even."""
    vocab, (contexts, targets) = notebook_data
    sample = slice(0, 2000)
    naive = tanh_output_gradient_stds(
        untrained("deep-mlp", vocab, init="naive", batchnorm=False), contexts[sample], targets[sample]
    )
    fixed = tanh_output_gradient_stds(untrained("deep-mlp", vocab), contexts[sample], targets[sample])
    assert max(naive) / min(naive) > 20, naive
    assert max(fixed) / min(fixed) < 3, fixed
