"""The search spaces: what each model's trials may be trained with, drawn by Optuna's TPE. Each
model's spec declares its own (models/specs/<name>.py, in models/spec.py's form); a model whose
spec has none is not tuned."""

from villanueva.models import MODELS


def spaces() -> dict[str, dict]:
    """Each tunable model's search space, by the model's name."""
    return {name: spec.space for name, spec in MODELS.items() if spec.space is not None}


def draw(trial, model: str) -> dict:
    """Values for `model`'s settings, drawn in its space's order; the study names them
    `<model>.<setting>`, so that two models' `lr` are two parameters of their own."""
    values = {}
    for name, space in spaces()[model].items():
        if isinstance(space, list):
            values[name] = trial.suggest_categorical(f"{model}.{name}", space)
        else:
            kind, low, high = space
            suggest = trial.suggest_int if kind == "int" else trial.suggest_float
            values[name] = suggest(f"{model}.{name}", low, high, log=low > 0 and high / low >= 4)
    return values
