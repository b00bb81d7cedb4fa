from dataclasses import dataclass

from villanueva.data.corpus import MAX_NAME_LENGTH
from villanueva.models.spec import NOTEBOOK_SGD, WINDOW_TRAINING_SPACE, ModelSpec, width
from villanueva.schema import check, setting


@dataclass
class MLPConfig:
    block_size: int = setting(3, "characters of context the model reads", ge=1, le=MAX_NAME_LENGTH)
    emb_dim: int = width(10, "size of each character embedding")
    hidden: int = width(300, "width of the hidden layer(s)")

    def __post_init__(self):
        check(self)


SPEC = ModelSpec(
    name="mlp",
    summary="MLPv0 (Bengio 2003): embeddings, one tanh hidden layer",
    config=MLPConfig,
    network="mlp:MLP",
    fast={},  # TrainConfig's defaults are the window models' fast recipe
    notebook={
        **NOTEBOOK_SGD,
        "batch_size": 64,
        "steps": 300_000,
        "schedule": "step",
        "decay_at": 2 / 3,
        "final_lr_factor": 0.1,
    },
    space={
        "block_size": ("int", 3, 8),
        "emb_dim": [8, 16, 24, 32],
        "hidden": ("int", 100, 800),
        "lr": ("float", 2e-3, 3e-2),
        "batch_size": [128, 256, 512],
        **WINDOW_TRAINING_SPACE,
    },
)
