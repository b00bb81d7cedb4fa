"""The two things that can run a model's decoding graph for the sampler (inference/steps.py): torch,
on the module itself, or ONNX Runtime, on the module exported by `villanueva export` (inference/export.py)
with no torch at all. Both take and give numpy arrays."""

import json
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path

import numpy as np

from villanueva.errors import UserError
from villanueva.inference.steps import FullPrefixSteps, Graph, GraphDescription, Steps, steps
from villanueva.machine import chosen_threads
from villanueva.runs.run import EXPORT, Run

DESCRIPTION_KEY = "villanueva.decoding"  # the ONNX metadata entry that holds the GraphDescription
ROWS_PER_SHARD = 128  # below this a shard costs more in overhead than its thread gains


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

    from villanueva.models.weights import model_device

    device, dtype = model_device(model), next(iter(model.state_dict().values())).dtype
    model.eval()

    @torch.no_grad()  # without it every step would keep the graph of all before it
    def run(inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
        arrays = [torch.from_numpy(np.ascontiguousarray(inputs[name])) for name in input_names]
        outputs = call(*(a.to(device, dtype if a.is_floating_point() else a.dtype) for a in arrays))
        return [output.cpu().numpy() for output in (outputs if isinstance(outputs, tuple) else (outputs,))]

    return run


def onnx_steps(path: Path) -> Steps:
    """Steps through an exported decoding graph, run by ONNX Runtime.

    ONNX Runtime's GRU and attention gain little from a second intra-op thread, while its matrix
    products do. So a reading graph (GRU, Transformer) cuts a large batch into one shard per
    thread, each run on one thread at the same time (every input and output has the names first,
    and each name is computed alone), and a window graph runs whole on all threads. Sampling
    20,000 names on 2 threads: the bundled GRU 7,409 names/s whole, 9,691 sharded; an MLPv1 89,924
    whole, 77,346 sharded."""
    threads = chosen_threads()
    session = _session(path, threads=1)
    metadata = session.get_modelmeta().custom_metadata_map
    if DESCRIPTION_KEY not in metadata:
        raise UserError(f"{path} was not exported by villanueva (no {DESCRIPTION_KEY} metadata)")
    description = GraphDescription.from_json(json.loads(metadata[DESCRIPTION_KEY]))
    names = [node.name for node in session.get_inputs()]
    sharded = description.kind == "reading" and threads > 1
    if not sharded and threads > 1:
        session = _session(path, threads)
    shards = ThreadPoolExecutor(threads) if sharded else None  # session.run lets go of the GIL

    def run(inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
        feeds = {name: inputs[name] for name in names}
        rows = len(feeds[names[0]])
        if shards is None or rows < ROWS_PER_SHARD * threads:
            return session.run(None, feeds)
        bounds = np.linspace(0, rows, threads + 1).astype(int)
        parts = shards.map(
            lambda start, end: session.run(None, {name: feed[start:end] for name, feed in feeds.items()}),
            bounds[:-1],
            bounds[1:],
        )
        return [np.concatenate(outputs) for outputs in zip(*parts)]

    return steps(run, description)


def _session(path: Path, threads: int):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # errors only: its shape warnings are about the traced example
    options.intra_op_num_threads = threads
    try:
        return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as error:  # ORT raises its own exception types, one per failure
        raise UserError(f"{path} is not a decoding graph ONNX Runtime can read: {error}") from None
