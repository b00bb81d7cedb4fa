"""Deterministic train / val / test lists of names.

The default reproduces the notebooks exactly: `random.seed(42); random.shuffle(names)`, then the
first 80% train, the next 10% val, the rest test (`int(0.8 * n)`, `int(0.9 * n)`).
`random.Random(seed)` has the same state as the module-level generator after `random.seed(seed)`.
The positions are shuffled, not the names: a shuffle's permutation depends only on the generator
and the length of the list, so the names land exactly where shuffling them would put them, and
their labels, when there are any, go with them.
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
    labels: dict[str, list[str]] | None = None  # part -> the label of each of its names

    def parts(self) -> dict[str, list[str]]:
        return {"train": self.train, "val": self.val, "test": self.test}

    def to_json(self) -> dict:
        return {**self.parts(), **({"labels": self.labels} if self.labels is not None else {})}

    @classmethod
    def from_json(cls, data) -> "Split":
        """A split as saved; ValueError says what is wrong with one that is not."""
        if not isinstance(data, dict):
            raise ValueError("it is not an object with train, val and test")
        parts = {part: data.get(part) for part in ("train", "val", "test")}
        for part, names in parts.items():
            if not isinstance(names, list) or not names or not all(isinstance(n, str) and n for n in names):
                raise ValueError(f"its {part!r} is not a non-empty list of names")
        labels = data.get("labels")
        if labels is not None and not (
            isinstance(labels, dict)
            and all(
                isinstance(labels.get(part), list)
                and len(labels[part]) == len(names)
                and all(isinstance(label, str) for label in labels[part])
                for part, names in parts.items()
            )
        ):
            raise ValueError("its labels do not match its names, part by part")
        return cls(**parts, labels=labels)


def split_names(names: list[str], seed: int = NOTEBOOK_SEED, labels: list[str] | None = None) -> Split:
    order = list(range(len(names)))
    random.Random(seed).shuffle(order)
    n1, n2 = int(0.8 * len(order)), int(0.9 * len(order))
    rows = {"train": order[:n1], "val": order[n1:n2], "test": order[n2:]}
    split = Split(
        **{part: [names[i] for i in chosen] for part, chosen in rows.items()},
        labels=None
        if labels is None
        else {part: [labels[i] for i in chosen] for part, chosen in rows.items()},
    )
    if not (split.train and split.val and split.test):
        raise UserError(
            f"{len(names)} names are too few to split 80/10/10 into non-empty "
            "train/val/test lists; give at least 6"
        )
    return split
