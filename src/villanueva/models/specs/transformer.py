from dataclasses import dataclass

from villanueva.data.corpus import MAX_NAME_LENGTH
from villanueva.errors import UserError
from villanueva.models.spec import (
    MAX_WIDTH,
    WHOLE_NAME_TRAINING_SPACE,
    ModelSpec,
    WholeNameConfig,
    dropout_rate,
    stack,
    width,
)
from villanueva.schema import check, setting


@dataclass
class TransformerConfig(WholeNameConfig):
    emb_dim: int = width(64, "size of each character embedding, and the width of every block")
    heads: int = setting(4, "attention heads per block (must divide `emb_dim`)", ge=1, le=MAX_WIDTH)
    blocks: int = stack(2, "Transformer blocks (attention + MLP)")
    dropout: float = dropout_rate(0.1)
    max_length: int = setting(
        64,
        "longest name, in characters, the model can read (one learned position each)",
        ge=1,
        le=MAX_NAME_LENGTH,
    )
    tie_weights: bool = setting(True, "the output layer reuses the character embeddings (fewer parameters)")

    def __post_init__(self):
        check(self)
        if self.emb_dim % self.heads:
            raise UserError(f"`heads` ({self.heads}) must divide `emb_dim` ({self.emb_dim})")


SPEC = ModelSpec(
    name="transformer",
    summary="small causal Transformer over the whole name",
    config=TransformerConfig,
    network="transformer:Transformer",
    # Batches of names, as the GRU's. At lr 1e-2 without warm-up it learned slower (val 2.05 after
    # 700 steps, against 1.88 at 3e-3).
    fast={"batch_size": 32, "lr": 3e-3},
    notebook=None,
    space={
        "emb_dim": [32, 64, 96, 128],
        "heads": [2, 4],
        "blocks": ("int", 1, 4),
        "dropout": ("float", 0.0, 0.3),
        "lr": ("float", 1e-3, 6e-3),
        **WHOLE_NAME_TRAINING_SPACE,
    },
)
