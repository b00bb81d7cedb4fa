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
from dataclasses import dataclass, replace

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from villanueva.data import END, Vocab, clean_name, clean_prefix
from villanueva.data.corpus import MAX_NAME_LENGTH
from villanueva.errors import UserError, parameter, quoted
from villanueva.schema import check, setting

MAX_LENGTH = 100  # the longest name sampled unless a lower max_length is asked for
NOVELTY_QUERIES_PER_PASS = 2_048  # bounds the distance matrix rapidfuzz builds per pass


@dataclass(frozen=True, kw_only=True)
class Constraints:
    """Every field as the user typed it; `cleaned` brings the texts into a run's alphabet."""

    starts_with: str = setting("", "start with TEXT", metavar="TEXT", aliases=("--prefix",))
    ends_with: str = setting("", "end with TEXT", metavar="TEXT")
    contains: tuple[str, ...] = setting((), "contain TEXT (repeat for more)", metavar="TEXT")
    min_length: int = setting(1, "at least N characters", metavar="N", ge=1, le=MAX_NAME_LENGTH)
    max_length: int = setting(MAX_LENGTH, "at most N characters", metavar="N", ge=1, le=MAX_NAME_LENGTH)
    new_only: bool = setting(False, "only names that are not in the training data (distinct)")
    min_distance: int = setting(
        0,
        "only names at least D edits (Levenshtein) from every name of the data (implies `new_only`)",
        metavar="D",
        ge=0,
        le=MAX_LENGTH,
    )
    exclude: tuple[str, ...] = setting((), "never one of these names", metavar="FILE", names_file=True)

    def __post_init__(self):
        check(self)
        if self.min_length > self.max_length:
            raise UserError(
                f"{parameter('min_length')} {self.min_length} is more than "
                f"{parameter('max_length')} {self.max_length}"
            )

    @property
    def novel(self) -> bool:
        return self.new_only or self.min_distance > 0

    def cleaned(self, vocab: Vocab, keep_accents: bool) -> "Constraints":
        """The texts in the model's alphabet, checked (a character it cannot write is an error), and
        the names to exclude cleaned as the run's names were."""
        texts = {
            "exclude": tuple(sorted({clean_name(name, keep_accents) for name in self.exclude})),
            "starts_with": _cleaned("starts_with", self.starts_with, vocab, keep_accents),
            "ends_with": _cleaned("ends_with", self.ends_with, vocab, keep_accents),
            "contains": tuple(_cleaned("contains", text, vocab, keep_accents) for text in self.contains),
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
        rules = [(f"{parameter('min_length')} {self.min_length}", lambda name: len(name) >= self.min_length)]
        if self.ends_with:
            rules.append(
                (f"{parameter('ends_with')} {self.ends_with!r}", lambda name: name.endswith(self.ends_with))
            )
        for text in self.contains:
            rules.append((f"{parameter('contains')} {text!r}", lambda name, text=text: text in name))
        if self.exclude:
            excluded = frozenset(self.exclude)
            rules.append(
                (f"{parameter('exclude')} ({len(excluded):,} names)", lambda name: name not in excluded)
            )
        return rules


def _cleaned(name: str, text: str, vocab: Vocab, keep_accents: bool) -> str:
    cleaned = clean_prefix(text, keep_accents, name) if text else ""
    if END in cleaned:
        raise UserError(f"{parameter(name)} must not contain {END!r}: it is the end-of-name token")
    vocab.encode(cleaned, f"{parameter(name)} {quoted(cleaned)}")
    return cleaned


class Novelty:
    """Which names are at least `min_distance` edits away from every known name (1: not known)."""

    def __init__(self, known: Collection[str], min_distance: int):
        self.known, self.min_distance = sorted(set(known)), max(1, min_distance)
        self.exact = set(self.known)

    @property
    def rule(self) -> str:
        if self.min_distance == 1:
            return parameter("new_only")
        return f"{parameter('min_distance')} {self.min_distance}"

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
