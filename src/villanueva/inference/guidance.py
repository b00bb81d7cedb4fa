"""How strongly the label shapes a conditioned model's names: classifier-free guidance (Ho and
Salimans 2022) for a model trained with `label_dropout`, which knows names with their label and
without one ("no label", id `label_count`):

    logits = plain + strength * (labelled - plain)

At strength 1 that is the model as trained (and nothing extra runs); at 0 the label is ignored, the
names are the model's own unconditioned ones; above 1 what sets a label's names apart from all
names is exaggerated. Each name is grown twice in one batch, with its label and without, so a
guided sample costs about twice as much per character.
"""

import numpy as np

from villanueva.errors import UserError, parameter
from villanueva.inference.steps import Steps


class GuidedSteps(Steps):
    """`inner`'s steps for names grown with their label and, in the same batch, without it: a state
    holds the labelled rows first, then the same names' unlabelled rows."""

    def __init__(self, inner: Steps, strength: float):
        super().__init__(inner.graph, inner.description)
        self.inner, self.strength = inner, strength

    def start(self, count, prefix_ids, label_ids=None):
        unlabelled = np.full(count, self.label_count, dtype=np.int64)
        return self.inner.start(2 * count, prefix_ids, np.concatenate([label_ids, unlabelled]))

    def logits(self, state) -> np.ndarray:
        labelled, plain = np.split(self.inner.logits(state), 2)
        return plain + self.strength * (labelled - plain)

    def extend(self, state, next_ids: np.ndarray, keep: np.ndarray):
        return self.inner.extend(state, np.tile(next_ids, 2), np.tile(keep, 2))

    def joined(self, states: list):
        halves = [self.inner.split(state, [self._rows(state)] * 2) for state in states]
        return self.inner.joined([labelled for labelled, _ in halves] + [plain for _, plain in halves])

    def split(self, state, sizes: list[int]) -> list:
        parts = self.inner.split(state, sizes + sizes)
        return [self.inner.joined([labelled, plain]) for labelled, plain in zip(parts, parts[len(sizes) :])]

    def log_probabilities(self, rows, label_ids=None) -> np.ndarray:
        raise UserError(f"{parameter('style_strength')} applies to sampling only")

    def _rows(self, state) -> int:
        return len(self.inner.logits(state)) // 2


def guided(steps: Steps, strength: float) -> Steps:
    """`steps` with the label's weight set to `strength`: themselves at 1, else guided, for a model
    that knows names without their label (a UserError for any other)."""
    if strength == 1:
        return steps
    if not steps.label_count:
        raise UserError(f"{parameter('style_strength')} needs a run conditioned on labels")
    if not steps.description.unlabelled:
        raise UserError(
            f"{parameter('style_strength')} needs a model trained with {parameter('label_dropout')} "
            "above 0 (it learns names without their label too); this one was not"
        )
    return GuidedSteps(steps, strength)
