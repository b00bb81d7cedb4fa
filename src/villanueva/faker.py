"""A Faker provider of Spanish municipality names: invented by the bundled model, or real ones.

    from faker import Faker
    from villanueva.faker import Municipalities

    fake = Faker()
    fake.add_provider(Municipalities)
    fake.municipality()                     # an invented name, e.g. "Sant Marti de Cerveller"
    fake.municipality(province="Girona")    # in the style of a province, or of a community
    fake.municipality(real=True)            # a real one, as written: "Las Rozas de Madrid"
    fake.unique.municipality()              # never the same name twice

Faker calls a provider once per value and expects microseconds, while the model invents names
by the thousand in one pass. So each call draws from a pool: the first call for a province (or
for none) has the model invent POOL_SIZE new names from a fixed seed, kept for the process, and
every call picks one of
them with Faker's own random generator. Faker's seed therefore decides the sequence alone:
`Faker.seed(n)` or `fake.seed_instance(n)` gives the same names whatever was asked for before. A
pool holds distinct names, so `fake.unique` can hand out nearly all of them.

Invented names are in ASCII without apostrophes, as the bundled model learned them ("Caldes
Destrac"); real ones come from the embedded list as it writes them ("Caldes d'Estrac").
Importing this module is light: the model loads on first use. It runs on ONNX Runtime, so the
base install, without PyTorch, is enough.
"""

import functools
import re
from typing import TYPE_CHECKING

from faker.providers import BaseProvider

import villanueva
from villanueva.data.spelling import as_written

if TYPE_CHECKING:
    from villanueva.data import LabelSet

# Names invented per pool: enough for `fake.unique` to hand out a couple of thousand distinct
# ones, while the whole first call, the model loaded and the pool made, takes 0.55 s
# (benchmarks/light_install.py).
POOL_SIZE = 2_000
POOL_SEED = 0  # fixed, so that a pool, and the names a Faker seed gives, are the same in every process

# Words an invented name keeps in lower case after its first word (the embedded list's usage:
# "Villanueva de la Serena", "Sant Joan de les Abadesses", "Vilanova i la Geltrú").
# Words joined by one space or hyphen, as every name of the embedded list is. The model writes a
# few names in a thousand otherwise ("-agullar", "sant marti  duro", "vallbona de la "): dropped.
WELL_FORMED = re.compile(r"[^ -]+(?:[ -][^ -]+)*")

_pools: dict[tuple[bool, tuple[int, ...] | None], list[str]] = {}  # by (real, label ids)


class Municipalities(BaseProvider):
    """`municipality()`: a Spanish municipality name, invented or real (see the module's doc)."""

    def municipality(self, province: str | None = None, real: bool = False) -> str:
        """An invented municipality name in the style of `province` (a province or an autonomous
        community; any when None), or with `real` a real one of the embedded list. An unknown
        province is a villanueva.UserError."""
        return self.generator.random.choice(pool(province, real))


def pool(province: str | None = None, real: bool = False) -> list[str]:
    """The names `municipality(province, real)` draws from, made on first use; one pool per set of
    labels, however the province is spelled ("Girona", "gerona")."""
    key = (real, None if province is None else _label_ids(province, real))
    if key not in _pools:
        _pools[key] = _real(key[1]) if real else _invented(province)
    return _pools[key]


@functools.cache
def _label_ids(province: str, real: bool) -> tuple[int, ...]:
    """The label ids `province` stands for, remembered: resolving a label folds every known name,
    which would cost each call more than the draw itself."""
    labels = _embedded()[2] if real else _bundled().run.labels
    return tuple(labels.members(province))


@functools.cache
def _bundled() -> "villanueva.TrainedModel":
    return villanueva.load()


def _invented(province: str | None) -> list[str]:
    sampled = _bundled().sample(
        POOL_SIZE, label=province, seed=POOL_SEED, new_only=True, losses=False, raw=True
    )
    return [as_written(name) for name in sampled.names if WELL_FORMED.fullmatch(name)]


@functools.cache
def _embedded() -> tuple[list[str], list[str], "LabelSet"]:
    """The embedded list's names as written, their provinces, and those provinces as labels."""
    # Imported here: reading the embedded list is what the first real name costs, not the import.
    from villanueva.data import LabelSet
    from villanueva.data.clean import written_form
    from villanueva.data.embedded import read_embedded

    raws, provinces, labelling = read_embedded("province")
    names = [written_form(raw) for raw in raws]  # as the corpus reads them, before its cleaning
    # A name opens with a capital, even one whose article the list writes in lower case ("el Campello").
    names = [name[:1].upper() + name[1:] for name in names]
    return names, provinces, LabelSet.from_labels("province", provinces, provinces, labelling)


def _real(label_ids: tuple[int, ...] | None) -> list[str]:
    names, provinces, labels = _embedded()
    if label_ids is None:
        return names
    wanted = {labels.names[i] for i in label_ids}
    return [name for name, province in zip(names, provinces) if province in wanted]
