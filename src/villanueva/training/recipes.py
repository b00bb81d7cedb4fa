"""Named training recipes: villanueva's fast default and the notebooks' (for reproduction).

Each model's spec (models/specs/) gives its recipes as changes to TrainConfig's defaults, which are
the fast recipe of a window model: AdamW with a cosine decay reaches the notebooks' quality in a few
thousand steps (docs/results.md). They become TrainConfigs here, when this module is imported, so a
misspelt setting in a spec fails at once.
"""

from dataclasses import replace

from villanueva.errors import UserError, unknown
from villanueva.models import MODELS, model_spec
from villanueva.training.config import TrainConfig

RECIPES = {
    "fast": {name: TrainConfig(**spec.fast) for name, spec in MODELS.items()},
    "notebook": {
        name: TrainConfig(**spec.notebook) for name, spec in MODELS.items() if spec.notebook is not None
    },
}


def recipe(model_name: str, name: str = "fast", **overrides) -> TrainConfig:
    """The recipe `name` for `model_name`, with `overrides` (None = keep) applied."""
    if name not in RECIPES:
        raise unknown("recipe", name, RECIPES)
    recipes = RECIPES[name]
    model_spec(model_name)  # an unknown model is named as such
    if model_name not in recipes:
        raise UserError(f"the notebooks have no recipe for {model_name!r} (they have: {', '.join(recipes)})")
    return replace(
        recipes[model_name], **{key: value for key, value in overrides.items() if value is not None}
    )
