"""The Faker provider: invented names from per-province pools, real ones from the embedded list,
repeatable by Faker's seed alone, cheap per call."""

import subprocess
import sys

import pytest
from faker import Faker

import villanueva
import villanueva.faker as provider
from villanueva.data import clean_name, load_corpus
from villanueva.data.spelling import as_written
from villanueva.faker import Municipalities, pool

SMALL_POOL = 300


@pytest.fixture(scope="module", autouse=True)
def small_pools():
    """Pools of 300 names, a fraction of a second each, and none left over from another test file."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(provider, "POOL_SIZE", SMALL_POOL)
        patch.setattr(provider, "_pools", {})
        yield


@pytest.fixture
def fake() -> Faker:
    fake = Faker()
    fake.add_provider(Municipalities)
    return fake


@pytest.fixture(scope="module")
def known() -> set[str]:
    """The embedded list's names, cleaned as the bundled model saw them (as written, accents kept)."""
    return set(load_corpus(keep_accents=True).names)


@pytest.fixture(scope="module")
def provinces_of() -> dict[str, set[str]]:
    """The provinces of each name of the embedded list, cleaned with its accents (a few names are
    in several provinces)."""
    corpus = load_corpus(keep_accents=True, label="province")
    provinces = {}
    for name, province in zip(corpus.names, corpus.labels):
        provinces.setdefault(name, set()).add(province)
    return provinces


def real_provinces(names: list[str], provinces_of: dict[str, set[str]]) -> set[str]:
    """The provinces the real `names` can be of; a KeyError for a name the embedded list lacks."""
    return set().union(*(provinces_of[clean_name(name, keep_accents=True)] for name in names))


def test_a_municipality_is_an_invented_name(fake, known):
    name = fake.municipality()
    assert isinstance(name, str) and name in pool()
    for name in pool():  # every name it can be
        assert name == " ".join(name.split()) and name[0].isupper() and not name.startswith("-")
        assert clean_name(name, keep_accents=True) not in known


def test_the_same_seed_gives_the_same_names_whatever_was_asked_before(fake):
    Faker.seed(7)
    first = [fake.municipality() for _ in range(10)]
    fake.municipality(province="Girona"), fake.municipality(real=True), fake.unique.municipality()
    Faker.seed(7)
    assert [fake.municipality() for _ in range(10)] == first
    other = Faker()
    other.add_provider(Municipalities)
    other.seed_instance(7)
    assert [other.municipality() for _ in range(10)] == first


def test_different_seeds_give_different_names(fake):
    Faker.seed(1)
    one = [fake.municipality() for _ in range(10)]
    Faker.seed(2)
    assert [fake.municipality() for _ in range(10)] != one


def test_a_province_draws_from_its_own_pool(fake, known):
    girona, sevilla = pool("Girona"), pool("Sevilla")
    assert {fake.municipality(province="Girona") for _ in range(50)} <= set(girona)
    assert pool("gerona") is girona  # one pool per province, however it is spelled
    assert not {clean_name(name, keep_accents=True) for name in girona} & known
    assert len(set(girona) & set(sevilla)) < SMALL_POOL // 10
    # Girona's names sound Catalan, Sevilla's do not.
    assert sum(name.startswith("Sant ") for name in girona) >= 10
    assert sum(name.startswith("Sant ") for name in sevilla) <= 2


def test_a_community_draws_from_its_own_pool(fake):
    catalan = set(pool("Cataluña"))
    assert {fake.municipality(province="catalunya") for _ in range(50)} <= catalan
    assert len(catalan & set(pool("Barcelona"))) < SMALL_POOL // 10  # not one province's pool


def test_real_names_come_from_the_embedded_list(fake, provinces_of):
    Faker.seed(0)
    assert len(real_provinces([fake.municipality(real=True) for _ in range(200)], provinces_of)) > 20
    in_girona = [fake.municipality(real=True, province="Girona") for _ in range(100)]
    assert all("Girona" in provinces_of[clean_name(name, keep_accents=True)] for name in in_girona)
    in_catalonia = [fake.municipality(real=True, province="Cataluña") for _ in range(200)]
    assert real_provinces(in_catalonia, provinces_of) >= {"Barcelona", "Girona", "Lleida", "Tarragona"}
    assert all(
        provinces_of[clean_name(name, keep_accents=True)] & {"Barcelona", "Girona", "Lleida", "Tarragona"}
        for name in in_catalonia
    )
    assert len(pool(real=True, province="Girona")) == load_corpus(label="province").labels.count("Girona")


def test_real_names_are_written_as_places_are():
    assert "Las Rozas de Madrid" in pool(real=True, province="Madrid")
    assert "Villanueva de la Serena" in pool(real=True, province="Badajoz")
    assert {"L'Alfàs del Pi", "El Campello"} <= set(pool(real=True, province="Alicante"))
    assert "Agurain" in pool(real=True, province="Álava")  # the first form of "Agurain/Salvatierra"
    assert all(name[0].isupper() for name in pool(real=True))


@pytest.mark.parametrize(
    "name, written",
    [
        ("villanueva de la serena", "Villanueva de la Serena"),
        ("la puebla de los infantes", "La Puebla de los Infantes"),
        ("sant marti de cerveller", "Sant Marti de Cerveller"),
        ("vilanova i la geltru", "Vilanova i la Geltru"),
        ("alegria-dulantzi", "Alegria-Dulantzi"),
        ("el y de", "El y de"),
    ],
)
def test_invented_names_are_capitalised_as_places(name, written):
    assert as_written(name) == written  # the rule villanueva writes every place name with


def test_unique_gives_distinct_names(fake):
    names = [fake.unique.municipality(province="Girona") for _ in range(250)]
    assert len(set(names)) == 250
    assert len(set(pool())) == len(pool()) >= 0.98 * SMALL_POOL  # a few odd names are left out


@pytest.mark.parametrize("real", [False, True])
def test_an_unknown_province_is_a_user_error(fake, real):
    with pytest.raises(villanueva.UserError, match="unknown label 'Narnia'"):
        fake.municipality(province="Narnia", real=real)


def test_a_call_draws_from_the_pool_not_from_the_model(fake, monkeypatch):
    # How fast that makes a call is measured in benchmarks/faker_provider.py, not here.
    fake.municipality(province="Girona")  # the pool, once
    passes = []
    sample = villanueva.TrainedModel.sample
    monkeypatch.setattr(
        villanueva.TrainedModel, "sample", lambda *a, **k: passes.append(1) or sample(*a, **k)
    )
    names = {fake.municipality(province="Girona") for _ in range(2_000)}
    assert passes == [] and names <= set(pool("Girona"))


def test_importing_the_provider_loads_neither_torch_nor_the_model():
    code = "import sys, villanueva.faker; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
