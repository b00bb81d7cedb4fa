"""Normalise raw names into the text the models learn from.

The default rules are the study notebooks', so that loss numbers compare with theirs:
1. transliterate to ASCII;
2. keep the text before the first `/` ("Agurain/Salvatierra" -> "Agurain"), since bilingual
   names list the same place twice;
3. move a trailing article to the front ("Rozas de Madrid, Las" -> "Las Rozas de Madrid");
4. lowercase;
5. drop `( ) ' "`.

The notebooks transliterated with `unidecode` (GPL). Unicode NFKD followed by dropping combining
marks gives the identical result on every name of the notebooks' CSV, so the standard library does
that, and `anyascii` (ISC) only handles characters that do not decompose (ß, ø, ł, æ ...).
Transliteration comes first so that what it produces (½ -> 1/2) is cleaned like everything else.

Beyond the notebooks, so that any list of names yields a clean corpus and cleaning is idempotent:
`.` is removed because it is the start/end token, commas left after step 3 are removed, invisible
characters are removed and white space is folded to single spaces.
"""

import re
import unicodedata

from anyascii import anyascii

DROPPED_CHARS = frozenset("()'\".,")
TRAILING_ARTICLE = re.compile(r"^(?P<name>.+?),\s*(?P<article>[^,]+)$", re.DOTALL)


def clean_name(raw: str, keep_accents: bool = False) -> str:
    """Return the cleaned form of one name; the empty string if nothing is left."""
    text = _nfc(raw) if keep_accents else to_ascii(raw)
    text = text.split("/", 1)[0].strip()
    text = _article_first(text).lower()
    if keep_accents:
        text = _nfc(text)  # lowercasing can decompose (İ -> i + combining dot)
    kept = "".join(ch for ch in text if ch.isspace() or (ch.isprintable() and ch not in DROPPED_CHARS))
    return " ".join(kept.split())


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _article_first(text: str) -> str:
    """'Rozas de Madrid, Las' -> 'Las Rozas de Madrid'; "Alfàs del Pi, l'" -> "l'Alfàs del Pi"."""
    match = TRAILING_ARTICLE.match(text)
    if not match:
        return text
    article = match["article"].strip()
    # An elided article (Catalan l', d') is written attached to the name.
    separator = "" if article.endswith("'") else " "
    return f"{article}{separator}{match['name'].strip()}"


def to_ascii(text: str) -> str:
    """Strip accents by decomposition; transliterate what does not decompose (ß -> ss)."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped if stripped.isascii() else anyascii(stripped)
