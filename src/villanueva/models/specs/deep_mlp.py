from dataclasses import dataclass

from villanueva.models.spec import INITS, NOTEBOOK_SGD, ModelSpec, stack
from villanueva.models.specs.mlp import MLPConfig
from villanueva.schema import setting


@dataclass
class DeepMLPConfig(MLPConfig):
    depth: int = stack(5, "number of hidden Linear-BatchNorm-Tanh blocks")
    batchnorm: bool = setting(True, "BatchNorm before every tanh")
    output_batchnorm: bool = setting(True, "BatchNorm on the logits too")
    init: str = setting("kaiming", "kaiming (scaled) or naive (standard normal)", choices=INITS)
    last_layer_scale: float = setting(
        0.1,
        "shrink the output layer at init so the first predictions are near uniform (kaiming init only)",
        gt=0,
    )


SPEC = ModelSpec(
    name="deep-mlp",
    summary="MLPv3: N x (Linear, BatchNorm, Tanh) + Linear + BN",
    config=DeepMLPConfig,
    network="deep_mlp:DeepMLP",
    fast={},
    notebook={
        **NOTEBOOK_SGD,
        "batch_size": 64,
        "steps": 200_000,
        "schedule": "constant",
    },
    space=None,  # not searched yet: the notebooks' deeper MLP was worse than their WaveNet
)
