"""What a run learns from: the source of the names, how they are cleaned and split, and what they
are labelled with."""

from dataclasses import dataclass

from villanueva.data.corpus import Corpus, load_corpus
from villanueva.data.embedded import EMBEDDED_LABELS
from villanueva.data.split import NOTEBOOK_SEED
from villanueva.errors import UserError, parameter
from villanueva.schema import check, setting


@dataclass(frozen=True, kw_only=True)
class DataOptions:
    data: str | None = setting(
        None,
        "names file, one per line, or a CSV with `column` (default: the embedded list of Spanish "
        "municipalities)",
        metavar="FILE",
    )
    column: str | None = setting(None, "the CSV column that holds the names", metavar="NAME")
    keep_accents: bool = setting(
        False,
        "keep names as places are written (accents, ñ, ç, apostrophes) instead of the notebooks' "
        "ASCII without apostrophes",
    )
    split_seed: int = setting(
        NOTEBOOK_SEED, "seed of the 80/10/10 split (42: the notebooks' split)", metavar="N", ge=0, lt=2**63
    )
    condition: str | None = setting(
        None,
        "learn names by label, to sample or guess them: the embedded list's province or community "
        "(default model: gru)",
        choices=EMBEDDED_LABELS,
    )
    label_column: str | None = setting(
        None,
        "with a CSV `data` file: learn names by the labels in this column, as `condition` does",
        metavar="NAME",
    )
    group_column: str | None = setting(
        None,
        "with `label_column`: a CSV column that groups the labels (a country's continent), each "
        "label in one group, which samples and guesses can ask for as a label (`by`)",
        metavar="NAME",
    )

    def __post_init__(self):
        check(self)
        if self.condition is not None and self.data is not None:
            raise UserError(
                f"{parameter('condition')} labels the embedded list; for {parameter('data')}, name the "
                f"column of labels with {parameter('label_column')}"
            )
        if self.label_column is not None and self.data is None:
            raise UserError(
                f"{parameter('label_column')} needs {parameter('data')} FILE.csv "
                f"(the embedded list: {parameter('condition')} province)"
            )
        if self.group_column is not None and self.label_column is None:
            raise UserError(
                f"{parameter('group_column')} groups the labels of a {parameter('label_column')}; "
                "give one too"
            )

    @property
    def label(self) -> str | None:
        """What each name is labelled with: province or community, or a CSV column; None: nothing."""
        return self.condition or self.label_column

    @property
    def conditioned(self) -> bool:
        return self.label is not None

    def load(self) -> Corpus:
        return load_corpus(self.data, self.column, self.keep_accents, self.label, self.group_column)
