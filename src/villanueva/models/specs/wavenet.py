from dataclasses import dataclass

from villanueva.errors import UserError
from villanueva.models.spec import NOTEBOOK_SGD, WINDOW_TRAINING_SPACE, ModelSpec, width
from villanueva.models.specs.mlp import MLPConfig
from villanueva.schema import setting


@dataclass
class WaveNetConfig(MLPConfig):
    block_size: int = setting(8, ge=2, le=256)
    emb_dim: int = width(10)
    hidden: int = width(100)

    def __post_init__(self):
        super().__post_init__()
        if self.block_size & (self.block_size - 1):
            raise UserError(
                f"`block_size` must be a power of two (2, 4, 8, 16, ...) for wavenet, "
                f"whose every level fuses pairs; got {self.block_size}"
            )

    @property
    def levels(self) -> int:
        return self.block_size.bit_length() - 1  # log2(block_size)


SPEC = ModelSpec(
    name="wavenet",
    summary="WaveNet-style MLP: merges neighbours in pairs",
    config=WaveNetConfig,
    network="wavenet:WaveNet",
    fast={},
    notebook={
        **NOTEBOOK_SGD,
        "batch_size": 32,
        "steps": 200_000,
        "schedule": "step",
        "decay_at": 0.75,
        "final_lr_factor": 0.1,
    },
    space={
        "block_size": [8, 16],
        "emb_dim": [10, 16, 24],
        "hidden": ("int", 64, 256),
        "lr": ("float", 2e-3, 3e-2),
        "batch_size": [64, 128, 256],
        **WINDOW_TRAINING_SPACE,
    },
)
