"""What a run learns from: the source of the names, how they are cleaned and split."""

from dataclasses import dataclass

from villanueva.data.corpus import Corpus, load_corpus
from villanueva.data.split import NOTEBOOK_SEED


@dataclass(frozen=True)
class DataOptions:
    path: str | None = None  # None = the embedded municipalities
    column: str | None = None  # a CSV column; None = one name per line
    keep_accents: bool = False
    split_seed: int = NOTEBOOK_SEED
    label: str | None = None  # condition on: province or community (embedded), a CSV column

    @property
    def conditioned(self) -> bool:
        return self.label is not None

    def load(self) -> Corpus:
        return load_corpus(self.path, self.column, self.keep_accents, self.label)
