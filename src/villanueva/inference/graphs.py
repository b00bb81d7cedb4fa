"""The two things that can run a model's decoding graph for the sampler (inference/steps.py): torch,
on the module itself, or ONNX Runtime, on the module exported by `villanueva export` (inference/export.py)
with no torch at all. Both take and give numpy arrays."""

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from villanueva.errors import UserError
from villanueva.inference.steps import FullPrefixSteps, Graph, GraphDescription, Steps, steps
from villanueva.machine import chosen_threads
from villanueva.runs.run import EXPORT, Run

DESCRIPTION_KEY = "villanueva.decoding"  # the ONNX metadata entry that holds the GraphDescription


def run_steps(run: Run) -> Steps:
    """The steps that sample and score a run: its torch model where one is loaded (load_run),
    else its export (model.onnx), run by ONNX Runtime. (open_run loads the torch model only where
    the export cannot serve; with both at hand torch goes first.)"""
    if run.model is not None:
        return torch_steps(run.model)
    export = run.path / EXPORT
    if not export.is_file():
        raise UserError(f"{run.path} has no {EXPORT}; write it with: villanueva export {run.path}")
    return _exported_steps(export, export.stat().st_mtime_ns)


@lru_cache(maxsize=8)  # a session per export (and per version of it), not per request
def _exported_steps(path: Path, modified: int) -> Steps:
    return onnx_steps(path)


def as_steps(model) -> Steps:
    """`model` if it is Steps already, else the Steps of a torch NameModel."""
    return model if isinstance(model, Steps) else torch_steps(model)


def torch_steps(model) -> Steps:
    """Steps through a torch `NameModel`, on its device, without gradients."""
    graph = model.decoding_graph()
    run = _torch_run(model, graph.module, list(graph.inputs))
    return steps(run, GraphDescription.from_json(graph.description))


def full_prefix_steps(model) -> Steps:
    """Steps through a torch whole-name model that reads every name's whole prefix at every step:
    the reference for incremental decoding (FullPrefixSteps)."""
    run = _torch_run(model, lambda names: model(names)[:, -1], ["names"])
    return FullPrefixSteps(run, GraphDescription.from_json(model.graph_description("window")))


def _torch_run(model, call, input_names: list[str]) -> Graph:
    """`call` (the model's decoding module, or a function of the model) on numpy inputs, moved to the
    model's device and floating-point type, and back."""
    import torch

    from villanueva.models.base import model_device

    device, dtype = model_device(model), next(iter(model.state_dict().values())).dtype
    model.eval()

    @torch.no_grad()  # without it every step would keep the graph of all before it
    def run(inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
        arrays = [torch.from_numpy(np.ascontiguousarray(inputs[name])) for name in input_names]
        outputs = call(*(a.to(device, dtype if a.is_floating_point() else a.dtype) for a in arrays))
        return [output.cpu().numpy() for output in (outputs if isinstance(outputs, tuple) else (outputs,))]

    return run


def onnx_steps(path: Path) -> Steps:
    """Steps through an exported decoding graph, run by ONNX Runtime."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # errors only: its shape warnings are about the traced example
    options.intra_op_num_threads = chosen_threads()  # as torch would have (machine.use_threads)
    try:
        session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as error:  # ORT raises its own exception types, one per failure
        raise UserError(f"{path} is not a decoding graph ONNX Runtime can read: {error}") from None
    metadata = session.get_modelmeta().custom_metadata_map
    if DESCRIPTION_KEY not in metadata:
        raise UserError(f"{path} was not exported by villanueva (no {DESCRIPTION_KEY} metadata)")
    names = [node.name for node in session.get_inputs()]

    def run(inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
        return session.run(None, {name: inputs[name] for name in names})

    return steps(run, GraphDescription.from_json(json.loads(metadata[DESCRIPTION_KEY])))
