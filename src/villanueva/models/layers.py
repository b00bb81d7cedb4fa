"""The hand-written layers of the makemore notebooks, as real `torch.nn.Module`s.

The notebooks build their own Linear, BatchNorm1d, Tanh, Embedding, FlattenConsecutive and
Sequential to show what `torch.nn` hides. Here they are proper modules (so `.to(device)`,
`state_dict`, `train()` / `eval()` and hooks all work), but every forward pass is still spelled out
in plain tensor operations, so the maths stays on the page.

Where they differ from `torch.nn`, on purpose, as in the notebooks:
- `Linear.weight` is (fan_in, fan_out) and the forward pass is `x @ weight + bias`; torch stores the
  transpose and computes `x @ weight.T + bias`.
- `BatchNorm1d` takes the channels *last*: (B, C) or (B, T, C), with statistics over every
  dimension but the last. torch's BatchNorm1d takes (N, C) or (N, C, L), channels second; on
  (B, T, C) this layer equals torch's applied to the input reshaped to (B*T, C).
- Initialisation draws from torch's global RNG, so `torch.manual_seed` fixes a model.
"""

import torch
from torch import nn

from villanueva.models.spec import INITS


class Linear(nn.Module):
    """y = x @ weight + bias, on (B, C) or (B, T, C) inputs (matmul broadcasts over leading dims).

    init="kaiming": weight ~ N(0, 1) * gain / sqrt(fan_in), bias 0. Each output then sums fan_in
    terms with variance gain**2 / fan_in, so unit-variance inputs give outputs of variance gain**2:
    gain 1 keeps the scale, gain 5/3 makes up for what tanh squashes.
    init="naive": weight ~ N(0, 1) * gain and bias ~ N(0, 1), as the first MLP notebook did; the
    outputs then have std ~ sqrt(fan_in), which saturates a following tanh.
    """

    def __init__(
        self, fan_in: int, fan_out: int, bias: bool = True, gain: float = 1.0, init: str = "kaiming"
    ):
        super().__init__()
        if init not in INITS:
            raise ValueError(f"init must be one of {', '.join(INITS)}, got {init!r}")
        scale = gain / fan_in**0.5 if init == "kaiming" else gain
        # In place: out of place, a product on the meta device (training/memory.py) imports torch._dynamo.
        self.weight = nn.Parameter(torch.randn(fan_in, fan_out).mul_(scale))
        if bias:
            self.bias = nn.Parameter(torch.randn(fan_out) if init == "naive" else torch.zeros(fan_out))
        else:
            self.register_parameter("bias", None)  # keeps `layer.bias` readable (None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = x @ self.weight
        return out if self.bias is None else out + self.bias

    def extra_repr(self) -> str:
        fan_in, fan_out = self.weight.shape
        return f"fan_in={fan_in}, fan_out={fan_out}, bias={self.bias is not None}"


class BatchNorm1d(nn.Module):
    """Normalise each channel to zero mean and unit variance, then scale by weight (gamma) and
    shift by bias (beta). Channels are the last dimension; inputs are (B, C) or (B, T, C).

    Training: normalise with the batch's mean and biased variance, and fold the batch's mean and
    unbiased variance into the running statistics, exactly as torch.nn.BatchNorm1d does.
    Eval: normalise with the running statistics, so each example's output is its own, whatever
    else is in the batch (a single name can be sampled).
    """

    def __init__(self, dim: int, eps: float = 1e-5, momentum: float = 0.1):
        super().__init__()
        self.eps = eps
        self.momentum = momentum
        self.weight = nn.Parameter(torch.ones(dim))
        self.bias = nn.Parameter(torch.zeros(dim))
        # Buffers, not parameters: saved in state_dict and moved by .to(), but never optimised.
        self.register_buffer("running_mean", torch.zeros(dim))
        self.register_buffer("running_var", torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            dims = tuple(range(x.dim() - 1))  # every dimension but the channels
            n = x.numel() // x.shape[-1]  # values per channel in this batch
            if n < 2:
                raise ValueError("BatchNorm1d needs more than one value per channel in training mode")
            mean = x.mean(dims)
            centred = x - mean
            # Biased (divide by n): the batch's own spread. Spelled out rather than x.var(), which
            # is also about 4x slower on small CPU batches.
            var = (centred * centred).mean(dims)
            # The running statistics estimate the whole data set's, hence the unbiased variance;
            # they are bookkeeping, not part of the function being differentiated.
            with torch.no_grad():
                self.running_mean.lerp_(mean, self.momentum)  # (1 - m) * running + m * batch
                self.running_var.lerp_(var * (n / (n - 1)), self.momentum)
        else:
            centred, var = x - self.running_mean, self.running_var
        x_hat = centred * torch.rsqrt(var + self.eps)
        return self.weight * x_hat + self.bias

    def extra_repr(self) -> str:
        return f"{self.weight.numel()}, eps={self.eps}, momentum={self.momentum}"


class Tanh(nn.Module):
    """The squashing non-linearity, tanh(x), in (-1, 1)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(x)


class Embedding(nn.Module):
    """A lookup table: row i of `weight` (initialised N(0, 1)) is the vector of character id i."""

    def __init__(self, num_embeddings: int, dim: int):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(num_embeddings, dim))

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        return self.weight[idx.long()]  # indexing by uint8 ids would read them as a mask

    def extra_repr(self) -> str:
        return "{}, {}".format(*self.weight.shape)


class FlattenConsecutive(nn.Module):
    """(B, T, C) -> (B, T // n, C * n): concatenate the vectors of each n consecutive positions.

    This is WaveNet's dilated fusion: each level merges neighbours in pairs (n = 2), so three levels
    see 8 characters. When only one group is left, (B, 1, C * n) is squeezed to (B, C * n), so that
    n = T flattens a whole context for a plain MLP.
    """

    def __init__(self, n: int):
        super().__init__()
        if n < 1:
            raise ValueError(f"FlattenConsecutive needs n >= 1, got {n}")
        self.n = n

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        if T % self.n:
            raise ValueError(
                f"FlattenConsecutive({self.n}) needs a sequence length divisible by {self.n}, got {T}"
            )
        # Row-major memory already lies as position 0's C values, then position 1's, ...; so
        # grouping n positions is only a reshape (no copy for a contiguous input).
        x = x.reshape(B, T // self.n, C * self.n)
        return x.squeeze(1) if x.shape[1] == 1 else x

    def extra_repr(self) -> str:
        return f"n={self.n}"


class Sequential(nn.Sequential):
    """Apply the layers in order. Being an nn.Sequential, it registers them as submodules (their
    parameters and buffers follow `.to()` and `state_dict`) and can be indexed, sliced and iterated,
    which the diagnostics use to look at each layer."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self:
            x = layer(x)
        return x
