from dataclasses import dataclass

from villanueva.models.spec import NOTEBOOK_SGD, ModelSpec, stack
from villanueva.models.specs.deep_mlp import DeepMLPConfig
from villanueva.schema import setting


@dataclass
class MLPBNConfig(DeepMLPConfig):
    # The same options with the first MLP-with-BatchNorm notebook's values (their help is above).
    depth: int = stack(1)
    output_batchnorm: bool = setting(False)
    last_layer_scale: float = setting(0.01, gt=0)


SPEC = ModelSpec(
    name="mlp-bn",
    summary="MLPv1: mlp + Kaiming init + BatchNorm before tanh",
    config=MLPBNConfig,
    network="deep_mlp:DeepMLP",
    fast={},
    notebook={
        **NOTEBOOK_SGD,
        "batch_size": 64,
        "steps": 200_000,
        "schedule": "step",
        "decay_at": 0.5,
        "final_lr_factor": 0.1,
        "calibrate_batchnorm": True,
    },
    space=None,  # not searched yet: mlp's space covers its sizes, without BatchNorm
)
