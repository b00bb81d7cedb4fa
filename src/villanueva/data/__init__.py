"""The data stage: names -> cleaned Corpus -> Vocab -> Split -> index tensors.

The index tensors (data/tensors.py) are torch's, made for training: import them from there; the
rest needs no torch."""

from villanueva.data.clean import clean_name, clean_prefix
from villanueva.data.corpus import EMBEDDED, Corpus, load_corpus, read_name_lines
from villanueva.data.labels import LabelSet
from villanueva.data.options import DataOptions
from villanueva.data.split import NOTEBOOK_SEED, Split, split_names
from villanueva.data.vocab import END, Vocab

__all__ = [
    "EMBEDDED",
    "END",
    "NOTEBOOK_SEED",
    "Corpus",
    "DataOptions",
    "LabelSet",
    "Split",
    "Vocab",
    "clean_name",
    "clean_prefix",
    "load_corpus",
    "read_name_lines",
    "split_names",
]
