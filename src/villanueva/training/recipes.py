"""Named training recipes: villanueva's fast default and the notebooks' (for reproduction).

The fast recipe is TrainConfig's defaults for every window model (AdamW with a cosine decay reaches
the notebooks' quality in a few thousand steps, see docs/results.md), so registering a new one needs
no line here. Whole-name models (gru, transformer) count a batch in names, about 13 predictions
each on the municipalities, so theirs is 32: 6,000 steps are then about 30 epochs (18 for a window
model at 256 characters).
"""

from dataclasses import replace

from villanueva.errors import UserError, unknown
from villanueva.training.config import TrainConfig

# The notebooks: plain SGD, batch 64 (WaveNet 32), lr 0.1 dropping to 0.01 part-way (docs/design.md's table).
NOTEBOOK = {
    "bigram": TrainConfig(),  # counted, not trained: the settings are unused
    "mlp": TrainConfig(
        optimizer="sgd",
        lr=0.1,
        batch_size=64,
        steps=300_000,
        schedule="step",
        decay_at=2 / 3,
        final_lr_factor=0.1,
        eval_every=10_000,
    ),
    "mlp-bn": TrainConfig(
        optimizer="sgd",
        lr=0.1,
        batch_size=64,
        steps=200_000,
        schedule="step",
        decay_at=0.5,
        final_lr_factor=0.1,
        eval_every=10_000,
        calibrate_batchnorm=True,
    ),
    "deep-mlp": TrainConfig(
        optimizer="sgd", lr=0.1, batch_size=64, steps=200_000, schedule="constant", eval_every=10_000
    ),
    "wavenet": TrainConfig(
        optimizer="sgd",
        lr=0.1,
        batch_size=32,
        steps=200_000,
        schedule="step",
        decay_at=0.75,
        final_lr_factor=0.1,
        eval_every=10_000,
    ),
}

FAST = {
    # Without clipping, lr 1e-2 blew up larger GRUs (hidden 256: val 1.81 at step 900, 2.28 at 1,800).
    "gru": TrainConfig(batch_size=32, grad_clip=1.0),
    # At 1e-2 without warm-up it learned slower (val 2.05 after 700 steps, against 1.88 at 3e-3).
    "transformer": TrainConfig(batch_size=32, lr=3e-3),
}

RECIPES = {"fast": FAST, "notebook": NOTEBOOK}


def recipe(model_name: str, name: str = "fast", **overrides) -> TrainConfig:
    """The recipe `name` for `model_name`, with `overrides` (None = keep) applied."""
    if name not in RECIPES:
        raise unknown("recipe", name, RECIPES)
    if name == "notebook" and model_name not in NOTEBOOK:
        raise UserError(f"the notebooks have no recipe for {model_name!r} (they have: {', '.join(NOTEBOOK)})")
    base = RECIPES[name].get(model_name, TrainConfig())
    return replace(base, **{key: value for key, value in overrides.items() if value is not None})
