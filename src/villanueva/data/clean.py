"""Normalise raw names into the text the models learn from.

The default rules are the study notebooks', so that loss numbers compare with theirs:
1. transliterate to ASCII;
2. keep the text before the first `/` ("Agurain/Salvatierra" -> "Agurain"), since bilingual
   names list the same place twice;
3. move a trailing article to the front ("Rozas de Madrid, Las" -> "Las Rozas de Madrid");
4. lowercase;
5. drop `( ) ' "`.

`keep_accents` keeps names as places are written instead: accents, ñ, ç, l·l and apostrophes
("l'hospitalet de llobregat"), typographic apostrophes (’) folded into the plain one, so that what a
model trained on them invents can be used as it comes out (data/spelling.py adds the capitals).

The notebooks transliterated with `unidecode` (GPL). Unicode NFKD followed by dropping combining
marks gives the identical result on every name of the notebooks' CSV, so the standard library does
that, and `anyascii` (ISC) only handles characters that do not decompose (ß, ø, ł, æ ...).
Transliteration comes first so that what it produces (½ -> 1/2) is cleaned like everything else.

Beyond the notebooks, so that any list of names yields a clean corpus and cleaning is idempotent:
`.` is removed because it is the start/end token, commas left after step 3 are removed, invisible
characters are removed and white space is folded to single spaces.
"""

import unicodedata

from anyascii import anyascii

from villanueva.errors import UserError, parameter

DROPPED_CHARS = frozenset("()'\".,")
WRITTEN_DROPPED_CHARS = DROPPED_CHARS - {"'"}
APOSTROPHES = str.maketrans({"\u2019": "'", "\u02bc": "'", "\u00b4": "'"})  # ’ ʼ ´ as typed for '


def clean_name(raw: str, keep_accents: bool = False) -> str:
    """Return the cleaned form of one name; the empty string if nothing is left."""
    text = _nfc(raw).translate(APOSTROPHES) if keep_accents else to_ascii(raw)
    text = written_form(text).lower()
    dropped = WRITTEN_DROPPED_CHARS if keep_accents else DROPPED_CHARS
    kept = "".join(ch for ch in text if ch.isspace() or (ch.isprintable() and ch not in dropped))
    text = " ".join(kept.split())
    # NFC last: lowercasing can decompose (İ -> i + combining dot), and dropping a character can
    # bring a letter next to its accent ("a(\u0301" -> "á"); either would break idempotence.
    return _nfc(text) if keep_accents else text


def clean_prefix(prefix: str, keep_accents: bool = False, name: str = "starts_with") -> str:
    """A part of a name as the user types it ("Villa") in the model's alphabet ("villa"), for the
    parameter `name` that it was given to.

    Only transliteration and lowercasing: spaces and punctuation stay, since "villa " (with its
    space) is a meaningful prefix and a character the model does not know should be reported.
    """
    text = _nfc(prefix).translate(APOSTROPHES) if keep_accents else to_ascii(prefix)
    text = _nfc(text.lower()) if keep_accents else text.lower()
    if prefix and not text:
        raise UserError(f"{parameter(name)} {prefix!r} has no characters a name can have")
    return text


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def written_form(raw: str) -> str:
    """A raw name as a place is called, before any normalising: the first of a bilingual name's
    forms, with its article in front ("Rozas de Madrid, Las/X" -> "Las Rozas de Madrid")."""
    return article_first(raw.split("/", 1)[0].strip())


def article_first(text: str) -> str:
    """'Rozas de Madrid, Las' -> 'Las Rozas de Madrid'; "Alfàs del Pi, l'" -> "l'Alfàs del Pi"."""
    # The article follows the last comma. rpartition, not a regular expression: `,\s*[^,]+$`
    # backtracks in quadratic time over a run of spaces (4,000: 0.1 s; a 2 MB line: hours).
    name, comma, article = text.rpartition(",")
    if not (comma and name and article):
        return text
    article = article.strip()
    # An elided article (Catalan l', d') is written attached to the name.
    separator = "" if article.endswith("'") else " "
    return f"{article}{separator}{name.strip()}"


def to_ascii(text: str) -> str:
    """Strip accents by decomposition; transliterate what does not decompose (ß -> ss)."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped if stripped.isascii() else anyascii(stripped)
