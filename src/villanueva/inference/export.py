"""A run's decoding graph exported to ONNX (`model.onnx` in the run directory), so that sampling,
scoring and guessing can run on ONNX Runtime and numpy, without PyTorch.

The graph is the model's `decoding_graph()` (models/base.py), with every batch dimension dynamic:
a window model's forward pass over windows, or a whole-name model's `Reading` step, (ids, labels,
cache) -> (logits, cache), whose reading length and cache length are dynamic too. What the sampler
needs to feed it (its GraphDescription) is saved in the file's metadata. An ONNX file is data
(operators and weights): loading one runs no code.
"""

import copy
import io
import json
import warnings
from pathlib import Path

import torch

from villanueva.errors import UserError
from villanueva.inference.graphs import DESCRIPTION_KEY
from villanueva.models.base import NameModel
from villanueva.runs import files
from villanueva.runs.run import EXPORT, load_run

OPSET = 17


def export_model(model: NameModel, out: Path) -> None:
    """Write `model`'s decoding graph to the ONNX file `out` (atomically)."""
    import onnx

    graph = model.decoding_graph()
    module = copy.deepcopy(graph.module).cpu().eval()  # the model itself stays where it is
    dynamic = {name: _dynamic_axes(name, tensor) for name, tensor in graph.inputs.items()}
    dynamic |= {name: {0: "names"} for name in graph.outputs}
    if graph.description["kind"] == "reading":
        dynamic["logits"] = {0: "names", 1: "length"}
        dynamic |= {
            f"next.{name}": _dynamic_axes(name, graph.inputs[name]) for name in graph.description["cache"]
        }
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # The exporter warns about how it traces (and that a newer exporter exists); none of it is
        # the user's to act on, and tests/test_export.py checks what it writes.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            tuple(tensor.cpu() for tensor in graph.inputs.values()),
            buffer,
            input_names=list(graph.inputs),
            output_names=graph.outputs,
            dynamic_axes=dynamic,
            opset_version=OPSET,
            dynamo=False,
        )
    exported = onnx.load_from_string(buffer.getvalue())
    onnx.helper.set_model_props(exported, {DESCRIPTION_KEY: json.dumps(graph.description)})
    files.write_bytes(Path(out), exported.SerializeToString())


def export_run(path: Path, out: Path | None = None) -> Path:
    """Export the run at `path` (None: the bundled model) to `out` (default: its own model.onnx);
    returns where it was written."""
    if path is None and out is None:
        raise UserError("the bundled model ships with its export; give `out` to write a copy")
    run = load_run(path)
    out = run.path / EXPORT if out is None else Path(out)
    if out.is_dir():
        raise UserError(f"{out} is a directory; `out` is the file to write, such as {out / EXPORT}")
    export_model(run.model, out)
    return out


def _dynamic_axes(name: str, tensor: torch.Tensor) -> dict[int, str]:
    """The batch dimension, and every dimension that grows as a name is read: the ids' length,
    and a cache's dimensions of size 0 when nothing is read (the Transformer's keys and values)."""
    axes = {0: "names"}
    if name == "ids":
        axes[1] = "length"
    axes |= {dim: f"{name}.read" for dim, size in enumerate(tensor.shape) if size == 0}
    return axes
