"""The hand-written layers against their torch.nn counterparts: forward passes and gradients."""

import pytest
import torch
import torch.nn.functional as F
from torch.testing import assert_close

from villanueva.models.layers import BatchNorm1d, Embedding, FlattenConsecutive, Linear, Sequential, Tanh


@pytest.fixture(autouse=True)
def seeded():
    torch.manual_seed(0)


def grads(*tensors):
    """The .grad of each tensor, then clear them for the next backward pass."""
    out = [t.grad.clone() for t in tensors]
    for t in tensors:
        t.grad = None
    return out


def torch_batchnorm(layer: BatchNorm1d) -> torch.nn.BatchNorm1d:
    """torch's BatchNorm1d with the same settings and the same (float64) parameters as `layer`."""
    ref = torch.nn.BatchNorm1d(layer.weight.numel(), eps=layer.eps, momentum=layer.momentum).double()
    with torch.no_grad():
        ref.weight.copy_(layer.weight)
        ref.bias.copy_(layer.bias)
    return ref


# --- Linear -----------------------------------------------------------------------------------


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(7, 5), (4, 6, 5)])
def test_linear_matches_torch(bias, shape):
    layer = Linear(5, 3, bias=bias, init="naive").double()  # naive: a non-zero bias to check
    x = torch.randn(shape, dtype=torch.float64, requires_grad=True)
    out = layer(x)
    # torch keeps the weight as (fan_out, fan_in): ours transposed.
    expected = F.linear(x, layer.weight.T, layer.bias)
    assert out.shape == (*shape[:-1], 3)
    assert_close(out, expected)

    upstream = torch.randn_like(out)
    params = [x, layer.weight] + ([layer.bias] if bias else [])
    out.backward(upstream)
    ours = grads(*params)
    expected.backward(upstream)
    assert_close(ours, grads(*params))


def test_linear_without_bias_has_no_bias_parameter():
    layer = Linear(5, 3, bias=False)
    assert layer.bias is None
    assert [name for name, _ in layer.named_parameters()] == ["weight"]


@pytest.mark.parametrize("gain", [1.0, 5 / 3])
def test_kaiming_init_statistics(gain):
    layer = Linear(400, 500, gain=gain)
    assert layer.weight.shape == (400, 500)
    assert layer.weight.std().item() == pytest.approx(gain / 400**0.5, rel=0.02)
    assert layer.weight.mean().item() == pytest.approx(0, abs=0.01 * gain / 400**0.5)
    assert torch.all(layer.bias == 0)


def test_kaiming_init_keeps_the_activation_scale():
    x = torch.randn(2000, 400)
    assert Linear(400, 300)(x).std().item() == pytest.approx(1, rel=0.05)


def test_naive_init_statistics():
    layer = Linear(400, 500, init="naive")
    assert layer.weight.std().item() == pytest.approx(1, rel=0.02)
    assert layer.bias.std().item() == pytest.approx(1, rel=0.2)


def test_init_uses_the_global_rng():
    torch.manual_seed(1)
    a = Linear(4, 3).weight
    torch.manual_seed(1)
    assert torch.equal(a, Linear(4, 3).weight)


def test_unknown_init_is_refused():
    with pytest.raises(ValueError, match="init must be one of"):
        Linear(4, 3, init="xavier")


# --- BatchNorm1d ------------------------------------------------------------------------------


def random_affine(layer: BatchNorm1d) -> BatchNorm1d:
    """Non-trivial gamma and beta, so that their use is checked too."""
    with torch.no_grad():
        layer.weight.normal_()
        layer.bias.normal_()
    return layer


@pytest.mark.parametrize("momentum", [0.1, 0.3])
def test_batchnorm_training_matches_torch(momentum):
    layer = random_affine(BatchNorm1d(6, eps=1e-3, momentum=momentum).double())
    ref = torch_batchnorm(layer)
    for _ in range(4):  # several steps: the running statistics accumulate
        x = (torch.randn(16, 6, dtype=torch.float64) * 3 + 2).requires_grad_()
        assert_training_step_matches(layer, ref, x)


def assert_training_step_matches(layer, ref, x):
    """Outputs, gradients and running statistics of one training step agree with torch's, whose
    BatchNorm1d sees (B, T, C) inputs flattened to (B*T, C)."""
    out, expected = layer(x), ref(x.reshape(-1, x.shape[-1])).reshape(x.shape)
    assert_close(out, expected)
    upstream = torch.randn_like(out)
    out.backward(upstream)
    ours = grads(x, layer.weight, layer.bias)
    expected.backward(upstream)
    assert_close(ours, grads(x, ref.weight, ref.bias))
    assert_close(layer.running_mean, ref.running_mean)
    assert_close(layer.running_var, ref.running_var)


def test_batchnorm_training_normalises_with_the_biased_variance():
    layer = BatchNorm1d(3, eps=0.0)
    out = layer(torch.randn(10, 3) * 5 + 1)
    assert_close(out.mean(0), torch.zeros(3), atol=1e-6, rtol=0)
    assert_close(out.var(0, correction=0), torch.ones(3))


def test_batchnorm_eval_matches_torch():
    layer = random_affine(BatchNorm1d(6).double())
    ref = torch_batchnorm(layer)
    for _ in range(3):
        x = torch.randn(16, 6, dtype=torch.float64) * 2 - 1
        layer(x), ref(x)
    layer.eval(), ref.eval()
    x = torch.randn(5, 6, dtype=torch.float64, requires_grad=True)
    out, expected = layer(x), ref(x)
    assert_close(out, expected)
    out.sum().backward()
    ours = grads(x, layer.weight, layer.bias)
    expected.sum().backward()
    assert_close(ours, grads(x, ref.weight, ref.bias))


def test_batchnorm_on_sequences_matches_torch_on_the_flattened_batch():
    """(B, T, C): statistics over B and T, as the WaveNet notebook does."""
    layer = random_affine(BatchNorm1d(4).double())
    ref = torch_batchnorm(layer)
    for _ in range(3):
        x = (torch.randn(8, 3, 4, dtype=torch.float64) * 2 + 1).requires_grad_()
        assert_training_step_matches(layer, ref, x)
    layer.eval(), ref.eval()
    x = torch.randn(2, 3, 4, dtype=torch.float64)
    assert_close(layer(x), ref(x.reshape(-1, 4)).reshape(2, 3, 4))


def test_batchnorm_running_statistics_stay_out_of_the_graph():
    layer = BatchNorm1d(3)
    layer(torch.randn(8, 3, requires_grad=True)).sum().backward()
    assert not layer.running_mean.requires_grad and layer.running_mean.grad_fn is None
    assert not layer.running_var.requires_grad and layer.running_var.grad_fn is None


def test_batchnorm_state_dict_holds_the_running_statistics():
    layer = BatchNorm1d(3)
    layer(torch.randn(8, 3) + 5)
    state = layer.state_dict()
    assert set(state) == {"weight", "bias", "running_mean", "running_var"}
    assert_close(state["running_mean"], layer.running_mean)
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]  # not optimised

    restored = BatchNorm1d(3)
    restored.load_state_dict(state)
    restored.eval(), layer.eval()
    x = torch.randn(4, 3)
    assert_close(restored(x), layer(x))


def test_batchnorm_eval_output_does_not_depend_on_the_rest_of_the_batch():
    layer = random_affine(BatchNorm1d(4))
    layer(torch.randn(32, 4) * 3)
    layer.eval()
    x = torch.randn(6, 4)
    alone = torch.cat([layer(x[i : i + 1]) for i in range(6)])
    assert_close(layer(x), alone)
    assert_close(layer(x)[:2], layer(torch.cat([x[:2], 100 * torch.randn(9, 4)]))[:2])


def test_batchnorm_eval_does_not_update_the_running_statistics():
    layer = BatchNorm1d(3).eval()
    layer(torch.randn(8, 3) + 5)
    assert torch.equal(layer.running_mean, torch.zeros(3))
    assert torch.equal(layer.running_var, torch.ones(3))


def test_batchnorm_refuses_a_single_value_per_channel_in_training():
    with pytest.raises(ValueError, match="more than one value"):
        BatchNorm1d(3)(torch.randn(1, 3))
    BatchNorm1d(3).eval()(torch.randn(1, 3))  # fine in eval mode


# --- Tanh, Embedding ----------------------------------------------------------------------------


def test_tanh_matches_torch():
    x = (torch.randn(5, 4, dtype=torch.float64) * 3).requires_grad_()
    out = Tanh()(x)
    assert_close(out, torch.tanh(x))
    out.backward(torch.ones_like(out))
    assert_close(x.grad, 1 - torch.tanh(x.detach()) ** 2)


def test_embedding_matches_torch():
    layer = Embedding(10, 3).double()
    assert layer.weight.shape == (10, 3)
    idx = torch.tensor([[0, 3, 3], [9, 1, 0]])  # repeats: their gradients must add up
    out = layer(idx)
    expected = F.embedding(idx, layer.weight)
    assert out.shape == (2, 3, 3)
    assert_close(out, expected)
    upstream = torch.randn_like(out)
    out.backward(upstream)
    (ours,) = grads(layer.weight)
    expected.backward(upstream)
    assert_close(ours, layer.weight.grad)


# --- FlattenConsecutive -----------------------------------------------------------------------


def test_flatten_consecutive_by_hand():
    x = torch.arange(2 * 4 * 2).reshape(2, 4, 2)  # example 0: [[0,1],[2,3],[4,5],[6,7]]
    out = FlattenConsecutive(2)(x)
    assert out.shape == (2, 2, 4)
    assert out[0].tolist() == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert out[1].tolist() == [[8, 9, 10, 11], [12, 13, 14, 15]]


def test_flatten_consecutive_squeezes_a_single_group():
    x = torch.arange(2 * 3 * 2).reshape(2, 3, 2)
    out = FlattenConsecutive(3)(x)
    assert out.shape == (2, 6)
    assert out.tolist() == [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]]


def test_flatten_consecutive_wavenet_levels():
    x = torch.randn(5, 8, 10)
    for n_groups in (4, 2):
        x = FlattenConsecutive(2)(x)
        assert x.shape == (5, n_groups, 10 * 8 // n_groups)
    assert FlattenConsecutive(2)(x).shape == (5, 80)


def test_flatten_consecutive_needs_a_divisible_length():
    with pytest.raises(ValueError, match="divisible by 2, got 3"):
        FlattenConsecutive(2)(torch.randn(4, 3, 5))


# --- Sequential -------------------------------------------------------------------------------


def small_stack() -> Sequential:
    return Sequential(
        Embedding(7, 3),
        FlattenConsecutive(4),
        Linear(12, 8, bias=False, gain=5 / 3),
        BatchNorm1d(8),
        Tanh(),
        Linear(8, 7),
    )


def test_sequential_matches_the_same_maths_in_torch_functional():
    model = small_stack().double()
    emb, _, hidden, norm, _, out = model
    random_affine(norm)
    idx = torch.randint(0, 7, (16, 4))
    logits = model(idx)

    x = F.embedding(idx, emb.weight).flatten(1)
    x = F.linear(x, hidden.weight.T)
    x = F.batch_norm(
        x,
        torch.zeros(8, dtype=torch.float64),
        torch.ones(8, dtype=torch.float64),
        norm.weight,
        norm.bias,
        training=True,
        momentum=norm.momentum,
        eps=norm.eps,
    )
    expected = F.linear(torch.tanh(x), out.weight.T, out.bias)
    assert logits.shape == (16, 7)
    assert_close(logits, expected)

    params = list(model.parameters())
    logits.square().sum().backward()
    ours = grads(*params)
    expected.square().sum().backward()
    assert_close(ours, grads(*params))


def test_sequential_registers_parameters_and_buffers():
    model = small_stack()
    assert len(model) == 6 and isinstance(model[-1], Linear)
    assert [type(layer) for layer in model][:2] == [Embedding, FlattenConsecutive]
    assert model[:2](torch.randint(0, 7, (5, 4))).shape == (5, 12)  # a slice is a model too
    assert set(model.state_dict()) == {
        "0.weight",
        "2.weight",
        "3.weight",
        "3.bias",
        "3.running_mean",
        "3.running_var",
        "5.weight",
        "5.bias",
    }
    assert sum(p.numel() for p in model.parameters()) == 7 * 3 + 12 * 8 + 8 + 8 + 8 * 7 + 7

    model.to(torch.float64)
    assert all(t.dtype == torch.float64 for t in model.state_dict().values())
    assert model(torch.randint(0, 7, (5, 4))).dtype == torch.float64


def test_sequential_train_and_eval_reach_every_layer():
    model = small_stack().eval()
    assert not model[3].training
    model.train()
    assert model[3].training
