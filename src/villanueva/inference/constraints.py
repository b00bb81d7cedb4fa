"""What a sampled name must be: its start, end, contents and length, and how new it must be.

A constrained sample follows the model's distribution restricted to the names that satisfy every
constraint. The start is exact by conditioning (the prefix is fed to the model, which continues
it); the length limit is exact by stopping a name that has grown past it (it can never satisfy it,
so it is dropped as soon as that is known); every other constraint is exact by rejection: whole
names are drawn and those that fail are dropped. Masking characters instead (forbidding the end
token before the minimum length, say) would not be exact: it changes how likely the prefixes are.

Novelty is measured by edit distance (Levenshtein, from rapidfuzz) to every name the run learned
from; a minimum distance of 1 is "not a known name".
"""

from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from villanueva.data import END, Vocab, clean_name, clean_prefix
from villanueva.errors import UserError

MAX_LENGTH = 100  # the longest name sampled unless a lower --max-length is asked for
NOVELTY_QUERIES_PER_PASS = 2_048  # bounds the distance matrix rapidfuzz builds per pass


@dataclass(frozen=True)
class Constraints:
    """Every field as the user typed it; `cleaned` brings the texts into a run's alphabet."""

    starts_with: str = ""
    ends_with: str = ""
    contains: tuple[str, ...] = ()
    min_length: int = 1
    max_length: int = MAX_LENGTH
    new_only: bool = False  # not a known name, and distinct from every other name returned
    min_distance: int = 0  # edit distance to every known name at least this (implies new_only)
    exclude: frozenset[str] = field(default_factory=frozenset)  # names never to return
    exclude_source: str = ""  # where `exclude` came from, to name it in messages

    def __post_init__(self):
        if self.min_length < 1:
            raise UserError(f"--min-length must be at least 1, got {self.min_length}")
        if self.max_length < 1:
            raise UserError(f"--max-length must be at least 1, got {self.max_length}")
        if self.min_length > self.max_length:
            raise UserError(f"--min-length {self.min_length} is more than --max-length {self.max_length}")
        if not 0 <= self.min_distance <= MAX_LENGTH:
            raise UserError(f"--min-distance must be between 0 and {MAX_LENGTH}, got {self.min_distance}")

    @property
    def novel(self) -> bool:
        return self.new_only or self.min_distance > 0

    def cleaned(self, vocab: Vocab, keep_accents: bool) -> "Constraints":
        """The texts in the model's alphabet, checked (a character it cannot write is an error), and
        the names to exclude cleaned as the run's names were."""
        texts = {
            "exclude": frozenset(clean_name(name, keep_accents) for name in self.exclude),
            "starts_with": _cleaned("--starts-with", self.starts_with, vocab, keep_accents),
            "ends_with": _cleaned("--ends-with", self.ends_with, vocab, keep_accents),
            "contains": tuple(_cleaned("--contains", text, vocab, keep_accents) for text in self.contains),
        }
        return replace(self, **texts)

    def check_fits(self, longest: int | None) -> None:
        """Refuse constraints that no name of at most `longest` characters can meet."""
        shortest = max(len(self.starts_with), len(self.ends_with), *map(len, self.contains), self.min_length)
        limit = self.max_length if longest is None else min(self.max_length, longest)
        if shortest > limit:
            raise UserError(
                f"no name of at most {limit} characters can meet these constraints "
                f"(they need at least {shortest})"
            )

    def rules(self) -> list[tuple[str, Callable[[str], bool]]]:
        """(option, test) for each constraint checked name by name after drawing it."""
        # Always, at 1 too: a model can end a name before its first character (about 1 in 800 of
        # the bundled model's), and an empty name is no name.
        rules = [(f"--min-length {self.min_length}", lambda name: len(name) >= self.min_length)]
        if self.ends_with:
            rules.append((f"--ends-with {self.ends_with!r}", lambda name: name.endswith(self.ends_with)))
        for text in self.contains:
            rules.append((f"--contains {text!r}", lambda name, text=text: text in name))
        if self.exclude:
            source = self.exclude_source or f"{len(self.exclude)} names"
            rules.append((f"--exclude {source}", lambda name: name not in self.exclude))
        return rules


def _cleaned(option: str, text: str, vocab: Vocab, keep_accents: bool) -> str:
    cleaned = clean_prefix(text, keep_accents, option) if text else ""
    if END in cleaned:
        raise UserError(f"{option} must not contain {END!r}: it is the end-of-name token")
    try:
        vocab.encode(cleaned)
    except UserError as error:
        raise UserError(f"{option}: {error}") from None
    return cleaned


class Novelty:
    """Which names are at least `min_distance` edits away from every known name (1: not known)."""

    def __init__(self, known: Collection[str], min_distance: int):
        self.known, self.min_distance = sorted(set(known)), max(1, min_distance)
        self.exact = set(self.known)

    @property
    def option(self) -> str:
        return "--new-only" if self.min_distance == 1 else f"--min-distance {self.min_distance}"

    def new(self, names: list[str]) -> list[bool]:
        if self.min_distance == 1 or not self.known:
            return [name not in self.exact for name in names]
        distinct = sorted(set(names) - self.exact)
        near = set()
        for start in range(0, len(distinct), NOVELTY_QUERIES_PER_PASS):
            queries = distinct[start : start + NOVELTY_QUERIES_PER_PASS]
            # score_cutoff: distances above it are not computed exactly, which is most of the speed
            distances = process.cdist(
                queries,
                self.known,
                scorer=Levenshtein.distance,
                score_cutoff=self.min_distance - 1,
                dtype="uint8",
                workers=-1,
            )
            near.update(q for q, row in zip(queries, distances) if row.min() < self.min_distance)
        return [name not in self.exact and name not in near for name in names]
