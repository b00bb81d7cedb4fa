"""The one place that decides a run's settings: (model, recipe, preset, options given) -> Settings.

Every command that trains or describes a run goes through `resolve`: `train`, `lr-find`,
`reproduce`, `report`. Precedence, lowest first: the model's defaults and the recipe's training
settings, then the preset's changes, then the options given explicitly (None = not given).
"""

from dataclasses import asdict, dataclass, fields

from villanueva.errors import UserError, flag, parameter
from villanueva.models import make_config
from villanueva.schema import is_option
from villanueva.training.config import TrainConfig
from villanueva.training.presets import Preset, preset
from villanueva.training.recipes import recipe

DEFAULT_MODEL = "mlp"
DEFAULT_CONDITIONED_MODEL = "gru"  # the window models cannot be conditioned on a label
DEFAULT_RECIPE = "fast"
UNDESCRIBED = {"eval_every"}  # how often a run is checked, not what it learns: not worth a mention


@dataclass(frozen=True)
class Settings:
    model: str
    recipe: str
    train: TrainConfig
    model_config: object  # the model's config dataclass


def resolve(
    model: str | None = None,
    recipe_name: str | None = None,
    preset_name: str | None = None,
    train_options: dict | None = None,
    model_options: dict | None = None,
    conditioned: bool = False,
) -> Settings:
    """The settings of a run of `model` (default: the preset's, else mlp, or gru for a run
    conditioned on labels) trained with `recipe_name` (default fast), changed by the preset
    `preset_name` and then by the options given."""
    chosen = _chosen_preset(preset_name, model, recipe_name, conditioned)
    model = model or chosen.model
    recipe_name = recipe_name or DEFAULT_RECIPE
    training = _overriding(chosen.training, train_options)
    if (train_options or {}).get("steps") is not None and (train_options or {}).get("epochs") is None:
        training["epochs"] = 0.0  # --steps given: a length in epochs from the preset gives way
    train = recipe(model, recipe_name, **training)
    return Settings(
        model, recipe_name, train, make_config(model, **_overriding(chosen.model_options, model_options))
    )


def _chosen_preset(name: str | None, model: str | None, recipe_name: str | None, conditioned: bool) -> Preset:
    if name is None:
        return Preset(DEFAULT_CONDITIONED_MODEL if conditioned else DEFAULT_MODEL)
    chosen = preset(name)
    if model not in (None, chosen.model):
        raise UserError(
            f"{parameter('preset')} {name} trains {chosen.model}; drop {parameter('model')} {model}"
        )
    if recipe_name is not None:
        raise UserError(
            f"{parameter('preset')} {name} brings its own training settings; drop {parameter('recipe')}"
        )
    return chosen


def _overriding(defaults: dict, given: dict | None) -> dict:
    """`defaults`, changed by the entries of `given` that are set (not None)."""
    return {**defaults, **{key: value for key, value in (given or {}).items() if value is not None}}


def changes(settings: Settings) -> str:
    """The settings that differ from the defaults of the model and the recipe, written as the
    options that would set them ("--recipe notebook --hidden 64 --no-batchnorm"); settings that
    only recipes set are written as name=value."""
    defaults = resolve(settings.model, settings.recipe)
    default_model, default_train = asdict(defaults.model_config), asdict(defaults.train)
    changed = [
        _as_option(key, value)
        for key, value in asdict(settings.model_config).items()
        if default_model.get(key) != value
    ]
    # With a length in epochs the steps follow from the list's size: the epochs say it.
    skipped = UNDESCRIBED | ({"steps"} if settings.train.epochs else set())
    changed += [
        _as_option(f.name, getattr(settings.train, f.name))
        if is_option(f)
        else f"{f.name}={setting_text(getattr(settings.train, f.name))}"
        for f in fields(TrainConfig)
        if f.name not in skipped and getattr(settings.train, f.name) != default_train[f.name]
    ]
    recipe_option = [] if settings.recipe == DEFAULT_RECIPE else [f"--recipe {settings.recipe}"]
    return " ".join(recipe_option + changed)


def _as_option(name: str, value) -> str:
    if isinstance(value, bool):
        return flag(name) if value else flag("no_" + name)
    return f"{flag(name)} {setting_text(value)}"


def setting_text(value) -> str:
    """A setting's value as an option takes it: 0.003, not 0.0030000000000000001."""
    return f"{value:g}" if isinstance(value, float) else str(value)
