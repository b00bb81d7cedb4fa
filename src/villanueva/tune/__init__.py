"""The search for the settings that give one list its lowest validation loss, on Optuna: the search
spaces (space.py), the study in its database (study.py), a trial as an ordinary run (objective.py)
and the processes that run it (search.py).

Running tune again continues the study. A trial stopped by Ctrl-C, SIGTERM or the timeout is marked
failed at once, its run directory resumable like any interrupted run; one whose process died (kill
-9, a machine lost) stops sending Optuna's heartbeat and is failed once its grace period is over.
"""

from importlib import import_module

from villanueva.errors import UserError
from villanueva.tune.space import spaces

# Optuna is optional (villanueva[tune]): what needs it loads on first use, so that the parser can
# list the spaces' models, and a tune without it is refused in one line.
_NEEDS_OPTUNA = {
    "TuneRequest": "study",
    "load_study": "study",
    "masked": "study",
    "tune": "search",
    "as_preset": "objective",
    "best_settings": "objective",
    "trial_settings": "objective",
}


def __getattr__(name: str):
    if name not in _NEEDS_OPTUNA:
        raise AttributeError(f"module 'villanueva.tune' has no attribute {name!r}")
    try:
        return getattr(import_module(f"villanueva.tune.{_NEEDS_OPTUNA[name]}"), name)
    except ModuleNotFoundError as error:
        if error.name != "optuna":
            raise
        raise UserError("villanueva tune needs Optuna: pip install 'villanueva[tune]'") from None


__all__ = ["spaces", *_NEEDS_OPTUNA]
