"""Every model's settings: plain dataclasses, one per model, that need no PyTorch.

They are what a run's config.json records and what `villanueva train` turns into command-line
options, so reading a run, and the whole command line, work on an install without torch; the model
built from a config (models/<name>.py) is where torch comes in. Each field is declared once, with
`schema.setting`: its help text, its type and its range, checked by `schema.check` wherever a
config is made (the command line, the library, a preset file, a run's config.json). The upper
bounds keep a model buildable at all: 1,000,000 GRU layers is not a memory question (models/size.py
answers those) but minutes in the constructor before any estimate.
"""

from dataclasses import dataclass

from villanueva.data.corpus import MAX_NAME_LENGTH
from villanueva.errors import UserError
from villanueva.schema import check, setting

INITS = ("kaiming", "naive")  # how models/layers.Linear draws its first weights
MAX_WIDTH = 1 << 20  # an embedding or hidden layer: far past what fits, which size.py then says
MAX_STACK = 1_000  # blocks or layers stacked (the deepest of the study notebooks had 5)


def width(default: int, help: str | None = None):
    return setting(default, help, ge=1, le=MAX_WIDTH)


def stack(default: int, help: str | None = None):
    return setting(default, help, ge=1, le=MAX_STACK)


def dropout_rate(default: float):
    """The `dropout` option of the models that have one (one help text for the CLI)."""
    return setting(
        default,
        "probability of zeroing each activation while training; a regulariser against overfitting "
        "a short list (0 = off)",
        ge=0,
        lt=1,
    )


@dataclass
class MLPConfig:
    block_size: int = setting(3, "characters of context the model reads", ge=1, le=MAX_NAME_LENGTH)
    emb_dim: int = width(10, "size of each character embedding")
    hidden: int = width(300, "width of the hidden layer(s)")

    def __post_init__(self):
        check(self)


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


@dataclass
class MLPBNConfig(DeepMLPConfig):
    # The same options with the first MLP-with-BatchNorm notebook's values (their help is above).
    depth: int = stack(1)
    output_batchnorm: bool = setting(False)
    last_layer_scale: float = setting(0.01, gt=0)


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


@dataclass
class BigramConfig:
    # Far below 1e-10 the smallest probabilities leave float32 and a loss is infinite; far above
    # 1e6 the table is uniform.
    smoothing: float = setting(1.0, "add-k smoothing of the bigram counts", ge=1e-10, le=1e6)

    def __post_init__(self):
        check(self)


@dataclass
class GRUConfig:
    # emb_dim and hidden mean what they mean for the MLPs (the CLI shows that help text).
    emb_dim: int = width(32)
    hidden: int = width(128)
    layers: int = stack(1, "stacked GRU layers")
    dropout: float = dropout_rate(0.1)

    def __post_init__(self):
        check(self)


@dataclass
class TransformerConfig:
    # emb_dim means what it means for the MLPs (the CLI shows that help text); here it is also the
    # width of every block.
    emb_dim: int = width(64)
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
