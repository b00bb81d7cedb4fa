"""Labels: a category per name (a province, an autonomous community, any CSV column), and the set
of labels a conditioned run knows.

A source may say more about its labels (`Labelling`): the larger groups they form, which can be
sampled from and guessed by like a label (the embedded list's provinces form communities, a CSV's
`group_column` groups its labels), and other names people use for them. Labels are matched as a
person types them: without regard to accents, case, hyphens or extra spaces ("a coruna" is
"A Coruña"), and through those other names.
"""

import difflib
import unicodedata
from dataclasses import dataclass, field

import numpy as np

from villanueva.errors import UserError


def folded(text: str) -> str:
    """How labels are compared: no accents, no case, hyphens as spaces, single spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(plain.casefold().replace("-", " ").split())


@dataclass(frozen=True)
class Labelling:
    """What a source says about its labels beyond each name's own: the larger groups they form, of
    one kind (the embedded list's provinces form communities), and other names people use for them."""

    group_kind: str | None = None
    groups: dict[str, list[str]] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)  # another name -> the label's or group's


@dataclass(frozen=True)
class LabelSet:
    """The labels a conditioned run learned, with how many training names each had, and the larger
    groups its labels form (the communities, for a province run), which can be asked for by name."""

    kind: str  # province, community or the CSV column the labels came from
    names: list[str]  # in alphabetical order (accents aside); a label's id is its position
    counts: list[int]  # training names per label
    groups: dict[str, list[str]] = field(default_factory=dict)
    group_kind: str | None = None  # what the groups are (community), which guess can sum by
    aliases: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_labels(
        cls, kind: str, all_labels: list[str], train_labels: list[str], labelling: Labelling = Labelling()
    ) -> "LabelSet":
        names = sorted(set(all_labels), key=lambda name: (folded(name), name))
        counts = dict.fromkeys(names, 0)
        for label in train_labels:
            counts[label] += 1
        # The groups whose members are all labels here (all of them, for the embedded list).
        groups = {
            group: members
            for group, members in labelling.groups.items()
            if all(member in counts for member in members)
        }
        group_kind = labelling.group_kind if groups else None
        return cls(kind, names, list(counts.values()), groups, group_kind, labelling.aliases)

    def __len__(self) -> int:
        return len(self.names)

    def ids(self, labels: list[str]) -> list[int]:
        index = {name: i for i, name in enumerate(self.names)}
        return [index[label] for label in labels]

    def prior(self) -> np.ndarray:
        """P(label): training frequencies, plus one for each label so that none is impossible."""
        counts = np.asarray(self.counts, dtype=np.float64) + 1
        return counts / counts.sum()

    def weights(self, text: str | None = None) -> np.ndarray:
        """Which label to give a name: the prior, or the prior within the label or group `text`."""
        prior = self.prior()
        if text is None:
            return prior
        chosen = np.zeros_like(prior)
        members = self.members(text)
        chosen[members] = prior[members]
        return chosen / chosen.sum()

    def members(self, text: str) -> list[int]:
        """The ids a label or group typed by a user stands for; an unknown one is a UserError that
        lists the closest known ones."""
        if text in self.names:  # as written: before any folding, which may join two labels
            return [self.names.index(text)]
        if text in self.groups:
            return self.ids(self.groups[text])
        wanted = folded(text)
        wanted = folded(
            next((official for alias, official in self.aliases.items() if folded(alias) == wanted), text)
        )
        matches = [name for name in [*self.names, *self.groups] if folded(name) == wanted]
        if len(matches) > 1:
            raise UserError(
                f"label {text!r} could be {' or '.join(map(repr, matches))}, which differ only in accents "
                "or case; write it as one of them"
            )
        if matches:
            return self.members(matches[0])
        raise UserError(f"unknown label {text!r}; {self._closest(wanted)} (villanueva labels lists them all)")

    def _closest(self, wanted: str) -> str:
        known = {folded(name): name for name in [*self.names, *self.groups]}
        close = difflib.get_close_matches(wanted, known, n=4, cutoff=0.5)
        if close:
            return "did you mean " + ", ".join(known[key] for key in close) + "?"
        return f"this model knows {len(self)} {self.kind} labels"

    def to_json(self) -> dict:
        return {
            "kind": self.kind,
            "labels": self.names,
            "counts": self.counts,
            "groups": self.groups,
            "group_kind": self.group_kind,
            "aliases": self.aliases,
        }

    @classmethod
    def from_json(cls, data: dict) -> "LabelSet":
        names, counts = [str(name) for name in data["labels"]], [int(count) for count in data["counts"]]
        if len(names) != len(counts) or not names:
            raise ValueError("labels and counts differ in length, or there are no labels")
        groups = {str(group): [str(label) for label in labels] for group, labels in data["groups"].items()}
        group_kind = None if data["group_kind"] is None else str(data["group_kind"])
        aliases = {str(alias): str(name) for alias, name in data["aliases"].items()}
        return cls(str(data["kind"]), names, counts, groups, group_kind, aliases)
