"""How much memory a model needs, estimated before anything is built: a size this machine cannot
hold (`--hidden 1000000000`, `--block-size 1000000`, `--depth 10000`, or a damaged config.json
saying so) is refused in one line that gives the estimate and the limit, instead of ending in an
allocator's traceback or the kernel's out-of-memory killer.

The model is first built on PyTorch's "meta" device, which has shapes but no storage, so its
parameters are counted exactly at no cost. The rest is an estimate on the high side: training keeps
about six copies of the weights (themselves, their gradients, AdamW's two moments, the best model
and the checkpoint being written), the examples as compact ids with the epoch's order, and the
activations of a batch.
"""

import torch
from torch import nn

from villanueva.data.tensors import id_dtype

FLOAT, ORDER = 4, 8  # bytes of a float32, and of an example's place in the epoch's order (high)
WEIGHT_COPIES = 6
ACTIVATION_COPIES = 3  # the forward values, their gradients, and what autograd saves between them


def planned(build) -> nn.Module:
    """`build()`, on the meta device: a model with shapes and no storage."""
    with torch.device("meta"):
        return build()


def weight_bytes(model: nn.Module) -> int:
    return FLOAT * sum(t.numel() for t in [*model.parameters(), *model.buffers()])


def activations_per_position(model: nn.Module) -> int:
    """Floats a layer writes per position of an example, summed over the layers (high: a window
    model's later layers run once per example, not once per position). A layer with weights it
    does not know how to count is a TypeError, so that a new model's layer cannot be left out of
    the estimate unnoticed (tests/test_models.py builds every registered model through this)."""
    widths = 0
    for module in model.modules():
        if isinstance(module, nn.GRU):
            widths += 4 * module.hidden_size * module.num_layers  # three gates and the state
        elif isinstance(module, nn.Embedding):
            widths += module.embedding_dim
        elif not list(module.children()):
            widths += _leaf_width(module)
    return widths


def _leaf_width(module: nn.Module) -> int:
    shapes = {name: p.shape for name, p in module.named_parameters(recurse=False)}
    weight = shapes.get("weight")
    if weight is not None and len(weight) == 2:
        return max(weight)  # a Linear's output, one way round or the other
    if all(len(shape) == 1 for shape in shapes.values()):
        return 0  # no weights, or a normalisation's scales and shifts: it writes in place of its input
    raise TypeError(f"the memory estimate does not know {type(module).__name__} ({shapes})")


def training_bytes(model, names: list[str], batch_size: int) -> int:
    rows, width = model.example_shape(names)
    id_bytes = id_dtype(-1, max(model.vocab_size, model.label_count)).itemsize  # as data/tensors.py has them
    examples = rows * (id_bytes * (width + 1) + ORDER)
    batch = min(batch_size, rows) * width * activations_per_position(model) * FLOAT * ACTIVATION_COPIES
    return WEIGHT_COPIES * weight_bytes(model) + examples + batch
