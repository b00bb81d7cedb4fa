"""Each cleaning rule of DESIGN.md, on real municipality names."""

import pytest

from villanueva.data import clean_name
from villanueva.data.clean import clean_prefix


@pytest.mark.parametrize(
    "raw, cleaned",
    [
        ("Agurain/Salvatierra", "agurain"),  # text before '/'
        ("Ayala/Aiara", "ayala"),
        ("Rozas de Madrid, Las", "las rozas de madrid"),  # trailing article to the front
        ("Ballestero, El", "el ballestero"),
        ("Alfàs del Pi, l'", "lalfas del pi"),  # elided article, then ' dropped
        ("Alcalá de Henares", "alcala de henares"),  # accents
        ("A Coruña", "a coruna"),  # ñ
        ("Santa Eulàlia de Ronçana", "santa eulalia de roncana"),  # ç, grave accent
        ("Noáin (Valle de Elorz)/Noain (Elortzibar)", "noain valle de elorz"),  # ( ) dropped
        ("Alegría-Dulantzi", "alegria-dulantzi"),  # hyphen kept
        ("VILLANUEVA", "villanueva"),  # lowercase
        ('"Quoted" Name', "quoted name"),  # " dropped
    ],
)
def test_notebook_rules(raw, cleaned):
    assert clean_name(raw) == cleaned


@pytest.mark.parametrize(
    "raw, cleaned",
    [
        ("Straße", "strasse"),  # no decomposition: anyascii transliterates
        ("Øresund", "oresund"),
        ("Łódź", "lodz"),
        ("St. Moritz", "st moritz"),  # '.' is the end token, never part of a name
        ("  Two\tspaces  ", "two spaces"),
        ("a\u200bb", "ab"),  # invisible characters go
    ],
)
def test_beyond_the_notebooks(raw, cleaned):
    assert clean_name(raw) == cleaned


def test_keep_accents_keeps_accents_and_enye():
    assert clean_name("Rozas de Madrid, Las", keep_accents=True) == "las rozas de madrid"
    assert clean_name("A Coruña", keep_accents=True) == "a coruña"
    assert clean_name("Alcalá de Henares/X", keep_accents=True) == "alcalá de henares"


def test_keep_accents_keeps_apostrophes_as_places_write_them():
    assert clean_name("Alfàs del Pi, l'", keep_accents=True) == "l'alfàs del pi"
    assert clean_name("L’Hospitalet de Llobregat", keep_accents=True) == "l'hospitalet de llobregat"
    assert clean_name("Ràfol d'Almúnia, el", keep_accents=True) == "el ràfol d'almúnia"
    assert clean_name("Ràfol d'Almúnia, el") == "el rafol dalmunia"  # the notebooks' cleaning
    assert clean_prefix("L’H", keep_accents=True) == "l'h"


def test_nothing_left_is_empty():
    assert clean_name("()''") == ""
