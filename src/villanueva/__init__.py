"""villanueva: character-level language models that learn a list of names and invent new ones.

    import villanueva as vn
    vn.load().sample(5, label="Girona")          # the bundled model: names in the style of Girona
    model = vn.train(steps=2000)                 # learn the municipalities of Spain (or your list)
    model.sample(10, starts_with="Villa", seed=1)
    vn.diagnose(model)                           # verdicts and plots, inline in Jupyter

Importing the package is light: torch and the rest load on first use of what needs them.
"""

from typing import TYPE_CHECKING

from villanueva.errors import UserError

__version__ = "0.1.0"

_LIBRARY = ("Names", "ShortfallWarning", "TrainedModel", "diagnose", "load", "resume", "train")

if TYPE_CHECKING:
    from villanueva.library import Names, ShortfallWarning, TrainedModel, diagnose, load, resume, train


def __getattr__(name: str):
    if name in _LIBRARY:
        from villanueva import library

        return getattr(library, name)
    raise AttributeError(f"module 'villanueva' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LIBRARY])


__all__ = [
    "Names",
    "ShortfallWarning",
    "TrainedModel",
    "UserError",
    "__version__",
    "diagnose",
    "load",
    "resume",
    "train",
]
