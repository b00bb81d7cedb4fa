"""Every model's settings: plain dataclasses, one per model, that need no PyTorch.

They are what a run's config.json records and what `villanueva train` turns into command-line
options, so reading a run, and the whole command line, work on an install without torch; the model
built from a config (models/<name>.py) is where torch comes in. A field's metadata holds its help
text; `__post_init__` refuses a value the model cannot be built with, naming the option.
"""

import math
from dataclasses import dataclass, field

from villanueva.errors import UserError, parameter

INITS = ("kaiming", "naive")  # how models/layers.Linear draws its first weights
MAX_SMOOTHING = 1e6


def dropout_field(default: float):
    """The `dropout` option of the models that have one (one help text for the CLI)."""
    return field(
        default=default,
        metadata={
            "help": "probability of zeroing each activation while training; a regulariser against "
            "overfitting a short list (0 = off)"
        },
    )


def require_probability(config, *names: str) -> None:
    """Reject a value outside [0, 1), naming the command-line option that sets it."""
    for name in names:
        value = getattr(config, name)
        if not 0 <= value < 1:
            raise UserError(f"{parameter(name)} must be at least 0 and below 1, got {value}")


def require_positive(config, *names: str) -> None:
    """Reject a value that is not positive and finite, naming the command-line option that sets it."""
    for name in names:
        value = getattr(config, name)
        if not 0 < value < math.inf:  # also refuses nan
            raise UserError(f"{parameter(name)} must be positive and finite, got {value}")


@dataclass
class MLPConfig:
    block_size: int = field(default=3, metadata={"help": "characters of context the model reads"})
    emb_dim: int = field(default=10, metadata={"help": "size of each character embedding"})
    hidden: int = field(default=300, metadata={"help": "width of the hidden layer(s)"})

    def __post_init__(self):
        require_positive(self, "block_size", "emb_dim", "hidden")


@dataclass
class DeepMLPConfig(MLPConfig):
    depth: int = field(default=5, metadata={"help": "number of hidden Linear-BatchNorm-Tanh blocks"})
    batchnorm: bool = field(default=True, metadata={"help": "BatchNorm before every tanh"})
    output_batchnorm: bool = field(default=True, metadata={"help": "BatchNorm on the logits too"})
    init: str = field(
        default="kaiming", metadata={"help": "kaiming (scaled) or naive (standard normal)", "choices": INITS}
    )
    last_layer_scale: float = field(
        default=0.1,
        metadata={
            "help": "shrink the output layer at init so the first predictions are near uniform "
            "(kaiming init only)"
        },
    )

    def __post_init__(self):
        super().__post_init__()
        require_positive(self, "depth", "last_layer_scale")
        if self.init not in INITS:
            raise UserError(f"`init` must be one of {', '.join(INITS)}, got {self.init!r}")


@dataclass
class MLPBNConfig(DeepMLPConfig):
    depth: int = 1
    output_batchnorm: bool = False
    last_layer_scale: float = 0.01


@dataclass
class WaveNetConfig(MLPConfig):
    block_size: int = 8
    emb_dim: int = 10
    hidden: int = 100

    def __post_init__(self):
        super().__post_init__()
        if self.block_size < 2 or self.block_size & (self.block_size - 1):
            raise UserError(
                f"`block_size` must be a power of two (2, 4, 8, 16, ...) for wavenet, "
                f"whose every level fuses pairs; got {self.block_size}"
            )

    @property
    def levels(self) -> int:
        return self.block_size.bit_length() - 1  # log2(block_size)


@dataclass
class BigramConfig:
    smoothing: float = field(default=1.0, metadata={"help": "add-k smoothing of the bigram counts"})

    def __post_init__(self):
        require_positive(self, "smoothing")
        if self.smoothing > MAX_SMOOTHING:  # more is a uniform table; far more overflows float32
            raise UserError(f"`smoothing` must be at most {MAX_SMOOTHING:g}, got {self.smoothing:g}")


@dataclass
class GRUConfig:
    # emb_dim and hidden mean what they mean for the MLPs (the CLI shows that help text).
    emb_dim: int = 32
    hidden: int = 128
    layers: int = field(default=1, metadata={"help": "stacked GRU layers"})
    dropout: float = dropout_field(0.1)

    def __post_init__(self):
        require_positive(self, "emb_dim", "hidden", "layers")
        require_probability(self, "dropout")


@dataclass
class TransformerConfig:
    # emb_dim means what it means for the MLPs (the CLI shows that help text); here it is also the
    # width of every block.
    emb_dim: int = 64
    heads: int = field(default=4, metadata={"help": "attention heads per block (must divide `emb_dim`)"})
    blocks: int = field(default=2, metadata={"help": "Transformer blocks (attention + MLP)"})
    dropout: float = dropout_field(0.1)
    max_length: int = field(
        default=64,
        metadata={"help": "longest name, in characters, the model can read (one learned position each)"},
    )
    tie_weights: bool = field(
        default=True, metadata={"help": "the output layer reuses the character embeddings (fewer parameters)"}
    )

    def __post_init__(self):
        require_positive(self, "emb_dim", "heads", "blocks", "max_length")
        require_probability(self, "dropout")
        if self.emb_dim % self.heads:
            raise UserError(f"`heads` ({self.heads}) must divide `emb_dim` ({self.emb_dim})")
