"""The search spaces: what each model's trials may be trained with, drawn by Optuna's TPE."""

# name -> (kind, low, high) for numbers (log-uniform when the range spans a factor of 4 or more),
# or a list to choose from. Training settings and model options side by side; lengths in epochs,
# so that a space fits a list of any size.
WINDOW_TRAINING = {  # after lr and batch_size (in characters), in the order they are drawn
    "weight_decay": [0.0, 1e-3, 1e-2, 1e-1],
    "epochs": ("float", 5.0, 40.0),
}
WHOLE_NAME_TRAINING = {  # batches of names, about 13 characters each here
    "batch_size": [16, 32, 64],
    "weight_decay": [0.0, 1e-3, 1e-2, 1e-1],
    "epochs": ("float", 15.0, 45.0),
}
SPACES = {
    "mlp": {
        "block_size": ("int", 3, 8),
        "emb_dim": [8, 16, 24, 32],
        "hidden": ("int", 100, 800),
        "lr": ("float", 2e-3, 3e-2),
        "batch_size": [128, 256, 512],
        **WINDOW_TRAINING,
    },
    "wavenet": {
        "block_size": [8, 16],
        "emb_dim": [10, 16, 24],
        "hidden": ("int", 64, 256),
        "lr": ("float", 2e-3, 3e-2),
        "batch_size": [64, 128, 256],
        **WINDOW_TRAINING,
    },
    "gru": {
        "emb_dim": [16, 32, 64],
        "hidden": ("int", 128, 512),
        "layers": ("int", 1, 2),
        "dropout": ("float", 0.1, 0.5),
        "lr": ("float", 1e-3, 1e-2),
        **WHOLE_NAME_TRAINING,
    },
    "transformer": {
        "emb_dim": [32, 64, 96, 128],
        "heads": [2, 4],
        "blocks": ("int", 1, 4),
        "dropout": ("float", 0.0, 0.3),
        "lr": ("float", 1e-3, 6e-3),
        **WHOLE_NAME_TRAINING,
    },
}


def spaces() -> dict[str, dict]:
    """Each tunable model's search space, by the model's name."""
    return SPACES


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
