"""Corpus loading, the vocabulary, the split and the context windows."""

import hashlib
import random

import pytest
import torch

from villanueva.data import EMBEDDED, Vocab, load_corpus, split_names
from villanueva.data.tensors import context_windows, id_dtype
from villanueva.errors import UserError
from villanueva.training.loss import characters


def test_embedded_default_has_29_symbols_and_provinces():
    corpus = load_corpus()
    assert corpus.source == EMBEDDED
    assert len(corpus) == 8133
    assert len(Vocab.from_names(corpus.names)) == 29
    assert corpus.labels is not None and len(corpus.labels) == len(corpus)
    assert corpus.names[0] == "agurain" and corpus.labels[0] == "Álava"


def test_notebook_csv_is_the_published_file(notebook_csv):
    # The provenance note (tests/data/README.md) gives this hash: the copy is the notebooks' file.
    digest = hashlib.sha256(notebook_csv.read_bytes()).hexdigest()
    assert digest == "9ae1d4ebc492931ad3a962b28920615660f5f9109391b231a95deae9261f27de"


def test_notebook_csv_has_29_symbols(notebook_csv):
    corpus = load_corpus(str(notebook_csv), column="Nom")
    assert len(corpus) == 8134
    vocab = Vocab.from_names(corpus.names)
    assert vocab.chars == (".", " ", "-", *"abcdefghijklmnopqrstuvwxyz")
    assert "las rozas de madrid" in corpus.names


def test_keep_accents_grows_the_vocabulary(notebook_csv):
    corpus = load_corpus(str(notebook_csv), column="Nom", keep_accents=True)
    assert {"ñ", "á", "ç"} <= set(Vocab.from_names(corpus.names).chars)


def test_text_file_one_name_per_line(tmp_path):
    path = tmp_path / "names.txt"
    path.write_bytes("\ufeffEmma\r\n\r\nOlivia\nAva\n".encode("utf-8"))  # BOM, CRLF, blank line
    assert load_corpus(str(path)).names == ["emma", "olivia", "ava"]


def test_vocab_round_trip():
    vocab = Vocab.from_names(["ab c", "b-a"])
    assert vocab.chars[0] == "." and list(vocab.chars[1:]) == sorted(vocab.chars[1:])
    for text in ["ab c", "c-b", ""]:
        assert vocab.decode(vocab.encode(text)) == text
    assert Vocab.from_json(vocab.to_json()) == vocab


def test_vocab_rejects_unknown_characters_by_name():
    with pytest.raises(UserError, match="'7'"):
        Vocab.from_names(["abc"]).encode("a7")


def test_split_is_the_notebooks_seed_procedure(notebook_csv):
    names = load_corpus(str(notebook_csv), column="Nom").names
    expected = list(names)
    random.seed(42)
    random.shuffle(expected)
    n1, n2 = int(0.8 * len(expected)), int(0.9 * len(expected))
    split = split_names(names)
    assert (split.train, split.val, split.test) == (expected[:n1], expected[n1:n2], expected[n2:])
    assert (len(split.train), len(split.val), len(split.test)) == (6507, 813, 814)


def test_split_is_deterministic_disjoint_and_complete():
    names = [f"name{i}" for i in range(1000)]
    split = split_names(names, seed=7)
    assert split == split_names(names, seed=7)
    assert split != split_names(names, seed=8)
    parts = [set(split.train), set(split.val), set(split.test)]
    assert sum(map(len, parts)) == 1000 and set().union(*parts) == set(names)
    assert (len(split.train), len(split.val), len(split.test)) == (800, 100, 100)


def test_split_needs_six_names():
    assert [len(p) for p in split_names([f"n{i}" for i in range(6)]).parts().values()] == [4, 1, 1]
    with pytest.raises(UserError, match="at least 6"):
        split_names([f"n{i}" for i in range(5)])


def test_context_windows_pad_with_the_start_token():
    vocab = Vocab.from_names(["ab", "c"])
    contexts, targets = context_windows(["ab", "c"], vocab, block_size=3)
    pairs = [(vocab.decode(c), vocab.decode([t])) for c, t in zip(contexts.tolist(), targets.tolist())]
    assert pairs == [("...", "a"), ("..a", "b"), (".ab", "."), ("...", "c"), ("..c", ".")]
    assert contexts.dtype == torch.uint8 and targets.dtype == torch.int8  # a byte per id, not eight


def test_ids_take_the_smallest_type_that_holds_them():
    assert id_dtype(0, 255) == torch.uint8 and id_dtype(-1, 127) == torch.int8
    assert id_dtype(-1, 128) == id_dtype(0, 256) == torch.int16 and id_dtype(0, 2**31) == torch.int64
    alphabet = [chr(0x4E00 + i) for i in range(300)]  # more characters than a byte holds
    vocab = Vocab.from_names(alphabet)
    contexts, targets = context_windows(alphabet, vocab, block_size=2)
    assert contexts.dtype == targets.dtype == torch.int16
    assert vocab.decode(targets.tolist()) == ".".join(alphabet) + "."
    # 256 characters: the ids fill a uint8, and the targets are int16, so that id 255 is never
    # mistaken for padding (IGNORED, -1) when the scored characters are counted.
    vocab = Vocab.from_names(alphabet[:255])
    contexts, targets = context_windows(alphabet[:255], vocab, block_size=2)
    assert len(vocab) == 256 and contexts.dtype == torch.uint8 and targets.dtype == torch.int16
    assert characters(targets) == len(targets) == 2 * 255


def test_context_windows_keep_only_the_last_block():
    vocab = Vocab.from_names(["abcd"])
    contexts, targets = context_windows(["abcd"], vocab, block_size=2)
    assert [vocab.decode(c) for c in contexts.tolist()] == ["..", ".a", "ab", "bc", "cd"]
    assert vocab.decode(targets.tolist()) == "abcd."
