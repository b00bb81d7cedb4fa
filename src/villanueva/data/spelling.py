"""Names written as places are: 'villanueva de la serena' -> 'Villanueva de la Serena',
"l'hospitalet de llobregat" -> "L'Hospitalet de Llobregat", 'castell-platja d'aro' ->
"Castell-Platja d'Aro", 'vila-real' -> 'Vila-real'.

A model writes names in lower case (the notebooks' cleaning); this is how they are given to a
person. Every word begins with a capital but the particles inside a name (de, la, del, i, els, ...);
a word joined by a hyphen is two names, each with its capital, except a Catalan compound of a common
head (Vila-real, Mont-roig, Riba-roja: one word with a hyphen in it); after an elided article or
preposition (l', d', n', s') the name that follows takes the capital, and the elided word keeps
its small letter inside a name. Measured against the embedded list's own spelling
(tests/test_spelling.py): it writes 8,068 of the 8,133 municipalities (99.2%) exactly as the list
does, and 8,123 (99.9%) but for the first letter (the list writes some Valencian names' leading
article in lower case, "la Pobla de Farnals", where a name here starts with a capital).
"""

from dataclasses import dataclass, replace

from villanueva.schema import check, setting


@dataclass(frozen=True, kw_only=True)
class Writing:
    """How names are given: as places are written, or as the model writes them."""

    raw: bool = setting(False, "names as the model writes them (lower case), not as places are written")

    def __post_init__(self):
        check(self)

    def written(self, name: str) -> str:
        return name if self.raw else as_written(name)

    def applied(self, records: list) -> list:
        """`records` (dataclasses with a `name`: sampled, scored or guessed names), written so."""
        return records if self.raw else [replace(record, name=as_written(record.name)) for record in records]


# Words written in lower case inside a name: articles, prepositions and conjunctions of Spain's
# languages (Castilian, Catalan, Galician, Asturian, Basque place names use none).
PARTICLES = frozenset(
    "a al as con da das de del dels des do dos e el els en i la las le les lo los na o os sa sobre y".split()
)
ELIDED = frozenset("d l n s".split())  # before an apostrophe: d'Aro, l'Hospitalet, n'Hug, s'Arenal
PERSONAL_ARTICLES = frozenset({"en", "na"})  # Catalan, after d': "Callosa d'en Sarrià"
COMPOUND_HEADS = frozenset("bell font mont palau puig riba vall vila".split())


def as_written(name: str) -> str:
    """`name` with the capitals a place name has; its letters are otherwise unchanged."""
    return " ".join(_word(word, first=i == 0) for i, word in enumerate(name.split(" ")))


def _word(word: str, first: bool) -> str:
    if not first and word in PARTICLES:
        return word
    parts = word.split("-")
    written = [_capitalised(parts[0], first)]
    for before, part in zip(parts, parts[1:]):
        written.append(part if before in COMPOUND_HEADS else _capitalised(part, first=False))
    return "-".join(written)


def _capitalised(part: str, first: bool) -> str:
    opening = len(part) - len(part.lstrip("(¿¡\"'"))  # "(valle de elorz)" -> "(Valle de Elorz)"
    prefix, part = part[:opening], part[opening:]
    elided, apostrophe, rest = part.partition("'")
    if apostrophe and elided in ELIDED:
        head = _upper_first(elided) if first else elided
        return prefix + head + "'" + (rest if rest in PERSONAL_ARTICLES else _upper_first(rest))
    return prefix + _upper_first(part)


def _upper_first(text: str) -> str:
    upper = text[:1].upper()
    # A letter whose capital is two ("ß" -> "SS") stays: a name keeps its length, so per-character
    # scores still line up with it.
    return (upper if len(upper) == 1 else text[:1]) + text[1:]
