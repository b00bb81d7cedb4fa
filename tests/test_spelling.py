"""Place names written as places are: the rule against the embedded list's own spelling."""

from importlib import resources

import pytest

from villanueva.data.clean import written_form
from villanueva.data.spelling import Writing, as_written


def embedded_names() -> list[str]:
    text = resources.files("busca_municipio").joinpath("municipios.txt").read_text(encoding="utf-8")
    return [written_form(line.split(";", 1)[1]) for line in text.splitlines() if ";" in line]


def test_the_rule_writes_99_percent_of_the_embedded_names_as_the_list_does():
    names = embedded_names()
    exact = sum(as_written(name.lower()) == name for name in names)
    but_first = sum(as_written(name.lower())[1:] == name[1:] for name in names)
    assert len(names) == 8133 and exact / len(names) >= 0.99 and but_first / len(names) >= 0.998


@pytest.mark.parametrize(
    "typed, written",
    [
        ("villanueva de la serena", "Villanueva de la Serena"),
        ("sant cugat del vallès", "Sant Cugat del Vallès"),
        ("a coruña", "A Coruña"),
        ("castell-platja d'aro", "Castell-Platja d'Aro"),
        ("l'hospitalet de llobregat", "L'Hospitalet de Llobregat"),
        ("vila-real", "Vila-real"),
        ("callosa d'en sarrià", "Callosa d'en Sarrià"),
        ("alegría-dulantzi", "Alegría-Dulantzi"),
        ("noáin (valle de elorz)", "Noáin (Valle de Elorz)"),
        ("straße", "Straße"),
    ],
)
def test_place_names_get_their_capitals(typed, written):
    assert as_written(typed) == written


def test_a_capital_never_changes_a_names_length():
    assert len(as_written("ßa de ßb")) == len("ßa de ßb")


def test_raw_keeps_the_models_form():
    assert Writing(raw=True).written("vila-real") == "vila-real"
    assert Writing().written("vila-real") == "Vila-real"
