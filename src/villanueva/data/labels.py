"""Labels: a category per name (a province, an autonomous community, any CSV column), and the set
of labels a conditioned run knows.

The embedded list gives each municipality its province. The package it comes from spells some of
them the way a sorted index does ("Coruña, A", "lerida"); they are renamed to their official names
here, and each province belongs to one of Spain's 19 autonomous communities and cities (Ceuta and
Melilla included). Labels are matched as a person types them: without regard to accents, case,
hyphens or extra spaces ("a coruna" is "A Coruña"), and a few common other names are accepted.
"""

import difflib
import unicodedata
from dataclasses import dataclass, field

import numpy as np

from villanueva.errors import UserError

# The names of the embedded list that are not the official ones.
OFFICIAL_PROVINCE = {
    "Balears, Illes": "Illes Balears",
    "Coruña, A": "A Coruña",
    "Palmas, Las": "Las Palmas",
    "Rioja, La": "La Rioja",
    "lerida": "Lleida",
}

COMMUNITIES = {
    "Andalucía": ["Almería", "Cádiz", "Córdoba", "Granada", "Huelva", "Jaén", "Málaga", "Sevilla"],
    "Aragón": ["Huesca", "Teruel", "Zaragoza"],
    "Canarias": ["Las Palmas", "Santa Cruz de Tenerife"],
    "Cantabria": ["Cantabria"],
    "Castilla y León": [
        "Ávila",
        "Burgos",
        "León",
        "Palencia",
        "Salamanca",
        "Segovia",
        "Soria",
        "Valladolid",
        "Zamora",
    ],
    "Castilla-La Mancha": ["Albacete", "Ciudad Real", "Cuenca", "Guadalajara", "Toledo"],
    "Cataluña": ["Barcelona", "Girona", "Lleida", "Tarragona"],
    "Ceuta": ["Ceuta"],
    "Comunidad de Madrid": ["Madrid"],
    "Comunidad Foral de Navarra": ["Navarra"],
    "Comunitat Valenciana": ["Alicante", "Castellón", "Valencia"],
    "Extremadura": ["Badajoz", "Cáceres"],
    "Galicia": ["A Coruña", "Lugo", "Ourense", "Pontevedra"],
    "Illes Balears": ["Illes Balears"],
    "La Rioja": ["La Rioja"],
    "Melilla": ["Melilla"],
    "País Vasco": ["Álava", "Bizkaia", "Gipuzkoa"],
    "Principado de Asturias": ["Asturias"],
    "Región de Murcia": ["Murcia"],
}
COMMUNITY_OF = {province: community for community, provinces in COMMUNITIES.items() for province in provinces}

# Other names people use, in Spanish or in the regions' own languages.
ALIASES = {
    "Alacant": "Alicante",
    "Araba": "Álava",
    "Baleares": "Illes Balears",
    "Castelló": "Castellón",
    "Catalunya": "Cataluña",
    "Euskadi": "País Vasco",
    "Gerona": "Girona",
    "Guipúzcoa": "Gipuzkoa",
    "La Coruña": "A Coruña",
    "Lérida": "Lleida",
    "Orense": "Ourense",
    "València": "Valencia",
    "Vizcaya": "Bizkaia",
}

EMBEDDED_LABELS = ("province", "community")  # what the embedded list can be conditioned on


def official_province(name: str) -> str:
    return OFFICIAL_PROVINCE.get(name, name)


def community_of(province: str) -> str:
    """The autonomous community of a province, given by its official name."""
    return COMMUNITY_OF[province]


def folded(text: str) -> str:
    """How labels are compared: no accents, no case, hyphens as spaces, single spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(plain.casefold().replace("-", " ").split())


@dataclass(frozen=True)
class LabelSet:
    """The labels a conditioned run learned, with how many training names each had, and the larger
    groups its labels form (the communities, for a province run), which can be asked for by name."""

    kind: str  # province, community or the CSV column the labels came from
    names: list[str]  # in alphabetical order (accents aside); a label's id is its position
    counts: list[int]  # training names per label
    groups: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def from_labels(cls, kind: str, all_labels: list[str], train_labels: list[str]) -> "LabelSet":
        names = sorted(set(all_labels), key=lambda name: (folded(name), name))
        counts = dict.fromkeys(names, 0)
        for label in train_labels:
            counts[label] += 1
        groups = _communities(names) if kind == "province" else {}
        return cls(kind, names, list(counts.values()), groups)

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
            next((official for alias, official in ALIASES.items() if folded(alias) == wanted), text)
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
        return {"kind": self.kind, "labels": self.names, "counts": self.counts, "groups": self.groups}

    @classmethod
    def from_json(cls, data: dict) -> "LabelSet":
        names, counts = [str(name) for name in data["labels"]], [int(count) for count in data["counts"]]
        if len(names) != len(counts) or not names:
            raise ValueError("labels and counts differ in length, or there are no labels")
        groups = {str(group): [str(label) for label in labels] for group, labels in data["groups"].items()}
        return cls(str(data["kind"]), names, counts, groups)


def _communities(provinces: list[str]) -> dict[str, list[str]]:
    """The communities whose provinces are all known labels (all of them, for the embedded list)."""
    known = set(provinces)
    return {
        community: members
        for community, members in COMMUNITIES.items()
        if all(member in known for member in members)
    }
