"""Deterministic train / val / test lists of names.

The default reproduces the notebooks exactly: `random.seed(42); random.shuffle(names)`, then the
first 80% train, the next 10% val, the rest test (`int(0.8 * n)`, `int(0.9 * n)`).
`random.Random(seed)` has the same state as the module-level generator after `random.seed(seed)`.
"""

import random
from dataclasses import dataclass

from villanueva.errors import UserError

NOTEBOOK_SEED = 42


@dataclass(frozen=True)
class Split:
    train: list[str]
    val: list[str]
    test: list[str]

    def parts(self) -> dict[str, list[str]]:
        return {"train": self.train, "val": self.val, "test": self.test}


def split_names(names: list[str], seed: int = NOTEBOOK_SEED) -> Split:
    shuffled = list(names)
    random.Random(seed).shuffle(shuffled)
    n1, n2 = int(0.8 * len(shuffled)), int(0.9 * len(shuffled))
    split = Split(shuffled[:n1], shuffled[n1:n2], shuffled[n2:])
    if not (split.train and split.val and split.test):
        raise UserError(
            f"{len(names)} names are too few to split 80/10/10 into non-empty "
            "train/val/test lists; give at least 6"
        )
    return split
