"""Robustness: properties of the data stage over any input, and a fuzz test of the real CLI.

The project's rule under test: every mistake a user can make is one line on stderr and exit
status 2, never a traceback, and never a half-written run directory. The data stage must turn any
text into a clean Corpus or a UserError; the CLI, run as a user runs it (a subprocess), must exit
0 or 2 on any file, CSV or argument.
"""

import os
import random
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from villanueva.data import END, Corpus, Vocab, clean_name, load_corpus
from villanueva.errors import UserError

# ---------------------------------------------------------------------------------------------
# Properties of the data stage (hypothesis)
# ---------------------------------------------------------------------------------------------

# Characters that exercise every cleaning rule: separators, dropped punctuation, accents as
# combining marks, letters that do not decompose, invisible and white-space characters, case
# mappings that change length (İ, ß), compatibility forms (½, ﬁ) and Hangul jamo that compose.
TRICKY = (
    "aAzZ ,/.()'\"-\t\n\r\x00\x1b\x0b\x0c\x1c\x85\u00a0\u2028\u200b\u00ad\u0301\u0308\u0327"
    "áÀñÑçÇİıßẞøØłŁæÆ½ﬁ\u212b\u2126\u1100\u1161\uff0c\uff0f\U0001f600"
)
TEXT = st.one_of(st.text(), st.text(alphabet=st.sampled_from(TRICKY)))
FAST = settings(max_examples=200, deadline=None)


@FAST
@given(TEXT, st.booleans())
def test_clean_name_is_idempotent(raw, keep_accents):
    once = clean_name(raw, keep_accents)
    assert clean_name(once, keep_accents) == once


@FAST
@given(TEXT)
def test_default_cleaning_leaves_only_plain_ascii(raw):
    name = clean_name(raw)
    assert name.isascii() and name.isprintable()
    assert not set(name) & set("./,()'\"\t\n\r")
    assert name == name.strip() and "  " not in name


@FAST
@given(TEXT)
def test_keep_accents_output_is_nfc(raw):
    name = clean_name(raw, keep_accents=True)
    assert unicodedata.is_normalized("NFC", name)
    assert name == " ".join(name.split()) and name.isprintable()


def test_article_rule_is_linear_on_long_runs_of_spaces():
    """A regular expression `,\\s*[^,]+$` took quadratic time here (hours on a 2 MB line)."""
    assert clean_name("Rozas, " + " " * 1_000_000 + "x, La") == "la rozas x"


NAMES = st.lists(st.text(alphabet=st.characters(blacklist_characters=END)), min_size=1, max_size=8)


@FAST
@given(NAMES, st.data())
def test_encode_decode_round_trips(names, data):
    vocab = Vocab.from_names(names)
    symbols = vocab.chars[1:]
    text = data.draw(st.text(alphabet=st.sampled_from(symbols))) if symbols else ""
    assert vocab.decode(vocab.encode(text)) == text


@FAST
@given(NAMES, st.data())
def test_encode_names_a_character_outside_the_vocabulary(names, data):
    vocab = Vocab.from_names(names)
    stranger = data.draw(st.characters().filter(lambda ch: ch not in vocab.index))
    known = "".join(vocab.chars[1:])
    at = data.draw(st.integers(0, len(known)))
    with pytest.raises(UserError) as raised:
        vocab.encode(known[:at] + stranger + known[at:])
    assert repr(stranger) in str(raised.value)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    """A directory for the files that hypothesis examples write (one file, rewritten)."""
    return tmp_path_factory.mktemp("robustness")


def _load_or_reject(path: Path, column: str | None = None, keep_accents: bool = False) -> Corpus | None:
    """The contract: a clean Corpus that a Vocab can be built from, or a UserError. Nothing else."""
    try:
        corpus = load_corpus(str(path), column, keep_accents)
    except UserError:
        return None
    assert corpus.names
    for name in corpus.names:
        assert name and clean_name(name, keep_accents) == name
    Vocab.from_names(corpus.names)
    return corpus


@FAST
@given(TEXT, st.booleans())
def test_any_names_file_loads_cleanly_or_is_rejected(scratch, text, keep_accents):
    path = scratch / "names.txt"
    path.write_bytes(text.encode("utf-8"))
    _load_or_reject(path, keep_accents=keep_accents)


@FAST
@given(st.binary(max_size=200))
def test_any_bytes_load_cleanly_or_are_rejected(scratch, raw):
    path = scratch / "bytes.txt"
    path.write_bytes(raw)
    _load_or_reject(path)


CSV_TEXT = st.one_of(st.text(), st.text(alphabet=st.sampled_from("Nom,;\t\"\n\r\x00 ab/()'.")))


@FAST
@given(CSV_TEXT, st.sampled_from(["Nom", "", "a", "Nom,", '"']), st.booleans())
def test_any_csv_loads_cleanly_or_is_rejected(scratch, text, column, keep_accents):
    path = scratch / "names.csv"
    path.write_bytes(text.encode("utf-8"))
    corpus = _load_or_reject(path, column, keep_accents)
    with pytest.raises(UserError):  # a .csv without --column is always a clear error
        load_corpus(str(path))
    if corpus is not None:
        assert corpus.source == str(path)


# ---------------------------------------------------------------------------------------------
# Fuzz test of the real command line (a subprocess each, as a user runs it)
# ---------------------------------------------------------------------------------------------

SEED = 1234  # every case draws from its own random.Random(SEED): deterministic, order-free
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}

MADE_UP_NAMES = """Valdorrente Castromar Peñalverde Torrefría Alcazuela Villaserena Montehuerta
Fuenlozano Robledal Quintanares Arroyomar Sotillo Navalcerro Olmedilla Cañaverde Riofresno
Espinareda Lagunilla Benamor Albolote Carrascosa Matarredonda Pozuelo Herrerías Ventosilla
Zarzalejo Berrocal Tamarite Cabezuela Grañera""".split()


def villanueva(*args: str | bytes) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "villanueva", *args], env=ENV, capture_output=True, timeout=120
    )


def assert_user_protocol(result: subprocess.CompletedProcess, expect: int | None = None) -> None:
    """Exit 0, or exit 2 with exactly one `villanueva...: error: ...` line on stderr."""
    stderr = result.stderr.decode("utf-8", "replace")
    assert "Traceback" not in stderr, stderr[-3000:]
    assert result.returncode in (0, 2), (result.returncode, stderr[-3000:])
    if result.returncode == 2:
        assert stderr.count("\n") == 1 and stderr.endswith("\n"), stderr[:3000]
        assert stderr.startswith("villanueva") and ": error: " in stderr, stderr[:3000]
    if expect is not None:
        assert result.returncode == expect, stderr[:3000]


def _snapshot(directory: Path) -> dict[str, bytes] | None:
    if not directory.exists():
        return None
    return {
        str(p.relative_to(directory)): p.read_bytes() if p.is_file() else b"" for p in directory.rglob("*")
    }


def _random_unicode(rng: random.Random, length: int) -> str:
    """Text from many scripts and categories: no NUL or lone surrogate (argv cannot carry them)."""
    ranges = [
        (0x20, 0x7E),
        (0x01, 0x1F),
        (0xA0, 0x24F),
        (0x300, 0x36F),
        (0x370, 0x3FF),
        (0x590, 0x6FF),
        (0x2000, 0x206F),
        (0x3040, 0x30FF),
        (0x4E00, 0x4FFF),
        (0xAC00, 0xAD00),
        (0xFE00, 0xFEFF),
        (0x1F300, 0x1F64F),
    ]
    chars = []
    while len(chars) < length:
        low, high = rng.choice(ranges)
        ch = chr(rng.randint(low, high))
        if unicodedata.category(ch) != "Cs":
            chars.append(ch)
    return "".join(chars)


def _random_csv(rng: random.Random, rows: int = 40) -> str:
    """A random delimiter, quoted and half-quoted fields, ragged rows, mixed line endings."""
    delimiter = rng.choice([",", ";", "\t", "|"])
    field_chars = "abcdeñáç XYZ,;|\t\"'()./-"

    def field() -> str:
        text = "".join(rng.choice(field_chars) for _ in range(rng.randint(0, 12)))
        roll = rng.random()
        if roll < 0.3:
            return '"' + text.replace('"', '""') + '"'
        return '"' + text if roll < 0.4 else text  # an unbalanced quote

    lines = [delimiter.join(["Nom", "Provincia", "Codi"][: rng.randint(1, 3)])]
    lines += [delimiter.join(field() for _ in range(rng.randint(0, 5))) for _ in range(rows)]
    return "".join(line + rng.choice(["\n", "\r\n", "\r"]) for line in lines)


# Each case builds its input in a fresh directory and returns the arguments that choose the data
# (and, for two cases, the run directory); `expect` is the exit status when it is certain.
TRAIN_CASES = []


def train_case(expect: int | None = None):
    def register(build):
        TRAIN_CASES.append(pytest.param(build, expect, id=build.__name__.removeprefix("case_")))
        return build

    return register


@train_case(expect=2)
def case_random_bytes(rng, tmp):
    (tmp / "names.txt").write_bytes(rng.randbytes(4000))
    return ["--data", str(tmp / "names.txt")]


@train_case()
def case_random_unicode_lines(rng, tmp):
    lines = [_random_unicode(rng, rng.randint(0, 15)) for _ in range(40)]
    (tmp / "names.txt").write_text("\n".join(lines), encoding="utf-8")
    return ["--data", str(tmp / "names.txt")]


@train_case()
def case_random_csv(rng, tmp):
    (tmp / "names.csv").write_text(_random_csv(rng), encoding="utf-8", newline="")
    return ["--data", str(tmp / "names.csv"), "--column", "Nom"]


@train_case()
def case_random_csv_keep_accents(rng, tmp):
    rng.random()  # another CSV than case_random_csv's
    (tmp / "names.csv").write_text(_random_csv(rng), encoding="utf-8", newline="")
    return ["--data", str(tmp / "names.csv"), "--column", "Nom", "--keep-accents"]


@train_case(expect=2)
def case_csv_unknown_column(rng, tmp):
    (tmp / "names.csv").write_text(_random_csv(rng), encoding="utf-8", newline="")
    return ["--data", str(tmp / "names.csv"), "--column", _random_unicode(rng, 6)]


@train_case(expect=2)
def case_csv_huge_field(rng, tmp):
    names = "\n".join(f"{name},x" for name in MADE_UP_NAMES)
    huge = "".join(rng.choice("abc ") for _ in range(1_100_000))
    (tmp / "names.csv").write_text(f"Nom,Provincia\n{names}\n{huge},y\n", encoding="utf-8")
    return ["--data", str(tmp / "names.csv"), "--column", "Nom"]


@train_case(expect=2)
def case_csv_huge_field_in_header_without_column(rng, tmp):
    (tmp / "names.csv").write_text("Nom," + "h" * 1_100_000 + "\na,b\n", encoding="utf-8")
    return ["--data", str(tmp / "names.csv")]


@train_case()
def case_csv_with_nul_byte(rng, tmp):
    names = "\n".join(f"{name}{rng.choice(['', chr(0)])},x" for name in MADE_UP_NAMES)
    (tmp / "names.csv").write_text(f"Nom,\x00Provincia\n{names}\n", encoding="utf-8")
    return ["--data", str(tmp / "names.csv"), "--column", "Nom"]


@train_case(expect=2)
def case_one_line_of_two_million_characters(rng, tmp):
    # Spaces after a comma: the shape that made the old article rule backtrack quadratically.
    line = "Villa, " + " " * 1_000_000 + "".join(rng.choice("abcdef") for _ in range(999_993))
    (tmp / "names.txt").write_text(line + "\n", encoding="utf-8")
    return ["--data", str(tmp / "names.txt")]


@train_case(expect=2)
def case_directory_as_data(rng, tmp):
    return ["--data", str(tmp)]


@train_case(expect=2)
def case_file_name_too_long(rng, tmp):
    return ["--data", str(tmp / ("n" * 300))]


@train_case(expect=2)
def case_names_of_removed_punctuation_only(rng, tmp):
    lines = ["".join(rng.choice(".,()'\"/ \t") for _ in range(rng.randint(1, 8))) for _ in range(30)]
    (tmp / "names.txt").write_text("\n".join(lines), encoding="utf-8")
    return ["--data", str(tmp / "names.txt")]


@train_case(expect=0)
def case_names_of_kept_punctuation_only(rng, tmp):
    lines = ["".join(rng.choice("!?-#&*+=@") for _ in range(rng.randint(1, 8))) for _ in range(30)]
    (tmp / "names.txt").write_text("\n".join(lines), encoding="utf-8")
    return ["--data", str(tmp / "names.txt")]


@train_case(expect=2)
def case_out_below_a_regular_file(rng, tmp):
    (tmp / "names.txt").write_text("\n".join(MADE_UP_NAMES), encoding="utf-8")
    (tmp / "file").write_text("not a directory\n")
    return ["--data", str(tmp / "names.txt"), "--out", str(tmp / "file" / "run")]


@train_case(expect=2)
def case_out_is_a_run_already(rng, tmp):
    (tmp / "names.txt").write_text("\n".join(MADE_UP_NAMES), encoding="utf-8")
    (tmp / "run").mkdir()
    (tmp / "run" / "config.json").write_text("{}\n")
    return ["--data", str(tmp / "names.txt"), "--out", str(tmp / "run")]


@pytest.mark.parametrize("build, expect", TRAIN_CASES)
def test_train_fuzz(build, expect, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    args = build(random.Random(SEED), data)
    out = Path(args[args.index("--out") + 1]) if "--out" in args else tmp_path / "run"
    before = _snapshot(out)
    if "--out" not in args:
        args += ["--out", str(out)]
    result = villanueva("train", *args, "--steps", "2", "--hidden", "4", "--quiet")
    assert_user_protocol(result, expect)
    if result.returncode == 2:
        assert _snapshot(out) == before, "a failed train must leave --out as it was"
    else:
        assert (out / "model.safetensors").is_file()


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("fuzz-run")
    (directory / "names.txt").write_text("\n".join(MADE_UP_NAMES) + "\n", encoding="utf-8")
    result = villanueva(
        "train",
        "--data",
        str(directory / "names.txt"),
        "--steps",
        "5",
        "--hidden",
        "8",
        "--quiet",
        "--out",
        str(directory / "run"),
    )
    assert result.returncode == 0, result.stderr.decode("utf-8", "replace")
    return directory / "run"


def _vocab_chars(run: Path) -> str:
    return "".join(Vocab.from_json((run / "vocab.json").read_text(encoding="utf-8")).chars[1:])


def test_sample_with_random_unicode_prefix(trained_run):
    rng = random.Random(SEED)
    result = villanueva(
        "sample", str(trained_run), "-n", "3", "--seed", "1", f"--prefix={_random_unicode(rng, 12)}"
    )
    assert_user_protocol(result, expect=2)  # these scripts are not in the run's vocabulary


def test_sample_with_prefix_from_the_vocabulary(trained_run):
    rng = random.Random(SEED)
    prefix = "".join(rng.choice(_vocab_chars(trained_run)) for _ in range(4))
    result = villanueva("sample", str(trained_run), "-n", "5", "--seed", "1", f"--prefix={prefix}", "--raw")
    assert_user_protocol(result, expect=0)
    lines = result.stdout.decode("utf-8").splitlines()
    assert len(lines) == 5 and all(line.startswith(prefix) for line in lines)


def test_sample_with_undecodable_prefix_bytes(trained_run):
    result = villanueva("sample", str(trained_run), "-n", "3", b"--prefix=\xff\xfe")
    assert_user_protocol(result, expect=2)


def test_sample_prefix_with_the_end_token_is_rejected(trained_run):
    result = villanueva("sample", str(trained_run), "-n", "3", "--seed", "1", "--prefix=a.b")
    assert_user_protocol(result, expect=2)


def test_score_random_unicode(trained_run):
    rng = random.Random(SEED)
    names = [_random_unicode(rng, rng.randint(1, 20)) for _ in range(3)]
    assert_user_protocol(villanueva("score", "--run", str(trained_run), "--", *names))


def test_score_names_that_clean_to_nothing_or_do_not_decode(trained_run):
    assert_user_protocol(
        villanueva("score", "--run", str(trained_run), "--", "Valdorrente", "(...)"), expect=2
    )
    assert_user_protocol(villanueva("score", "--run", str(trained_run), b"\xff\xfe"), expect=2)
