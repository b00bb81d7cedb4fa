from dataclasses import dataclass

from villanueva.models.spec import (
    WHOLE_NAME_TRAINING_SPACE,
    ModelSpec,
    WholeNameConfig,
    dropout_rate,
    stack,
    width,
)
from villanueva.schema import check


@dataclass
class GRUConfig(WholeNameConfig):
    emb_dim: int = width(32, "size of each character embedding")
    hidden: int = width(128, "size of the recurrent state, which carries what the GRU has read")
    layers: int = stack(1, "stacked GRU layers")
    dropout: float = dropout_rate(0.1)

    def __post_init__(self):
        check(self)


SPEC = ModelSpec(
    name="gru",
    summary="GRU over the whole name, predicting every position",
    config=GRUConfig,
    network="gru:GRU",
    # A batch counts names here (about 13 predictions each on the municipalities): 6,000 steps of
    # 32 are about 30 epochs. Without clipping, lr 1e-2 blew up larger GRUs (hidden 256: val 1.81
    # at step 900, 2.28 at 1,800).
    fast={"batch_size": 32, "grad_clip": 1.0},
    notebook=None,
    space={
        "emb_dim": [16, 32, 64],
        "hidden": ("int", 128, 512),
        "layers": ("int", 1, 2),
        "dropout": ("float", 0.1, 0.5),
        "lr": ("float", 1e-3, 1e-2),
        **WHOLE_NAME_TRAINING_SPACE,
    },
)
