"""Names on demand: constraints met exactly (checked against a bigram's restricted distribution,
computed by enumeration), the budget, novelty by edit distance, exclusion, top-p, and the output
formats of `sample` and `score`."""

import csv
import io
import itertools
import json
import math
from collections import Counter

import numpy as np
import pytest
import torch

from villanueva.data import Vocab
from villanueva.data.tensors import context_windows
from villanueva.errors import UserError
from villanueva.inference import Constraints, Drawing, SampleReport, sample
from villanueva.inference.sample import _cumulative_probabilities
from villanueva.inference.score import character_surprisals, mixture_log_likelihoods
from villanueva.models import build_model, make_config

NAMES = ["ana", "anabel", "bea", "belen", "elena", "lena", "nel", "nela", "abel", "lea"]


@pytest.fixture(scope="module")
def bigram():
    vocab = Vocab.from_names(NAMES)
    model = build_model("bigram", make_config("bigram", smoothing=0.5), len(vocab))
    model.fit(*context_windows(NAMES, vocab, 1))
    return model, vocab


def names_of(batches) -> list[str]:
    return [sampled.name for batch in batches for sampled in batch]


def probability(model, vocab: Vocab, name: str) -> float:
    """P(name) under the bigram, character by character, end token included."""
    table = torch.softmax(model(torch.arange(len(vocab))[:, None]), dim=1)
    ids = [0, *vocab.encode(name), 0]
    return math.prod(float(table[a, b]) for a, b in zip(ids, ids[1:]))


def levenshtein(a: str, b: str) -> int:
    """The textbook dynamic programme: the reference rapidfuzz is checked against."""
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (x != y))
    return row[-1]


# --- exactness ---------------------------------------------------------------------------------


def test_a_constrained_sample_follows_the_models_distribution_restricted_to_the_constraints(bigram):
    model, vocab = bigram
    constraints = Constraints(starts_with="e", contains=("l",), min_length=3, max_length=4)
    letters = vocab.chars[1:]
    support = [
        "e" + "".join(rest)
        for length in (3, 4)
        for rest in itertools.product(letters, repeat=length - 1)
        if "l" in "e" + "".join(rest)
    ]
    weights = {name: probability(model, vocab, name) for name in support}
    total = sum(weights.values())
    drawn = names_of(sample(model, vocab, 20_000, constraints, seed=0))
    assert len(drawn) == 20_000 and set(drawn) <= set(support)
    # Compare features whose law masking the end token (instead of rejecting) would change: the
    # length, and the second character.
    for feature in (len, lambda name: name[1]):
        expected = Counter()
        for name, weight in weights.items():
            expected[feature(name)] += weight / total
        seen = Counter(map(feature, drawn))
        for value, p in expected.items():
            share = seen[value] / len(drawn)
            assert abs(share - p) < 4 * math.sqrt(p * (1 - p) / len(drawn)) + 1e-3, (value, share, p)


def test_ends_with_and_lengths_hold_for_every_name(bigram):
    names = names_of(sample(*bigram, 300, Constraints(ends_with="na", min_length=4, max_length=6), seed=1))
    assert len(names) == 300 and all(n.endswith("na") and 4 <= len(n) <= 6 for n in names)


def test_the_same_seed_gives_the_same_constrained_names(bigram):
    constraints = Constraints(contains=("el",), new_only=True)
    first = names_of(sample(*bigram, 50, constraints, seed=3, known=set(NAMES)))
    assert first == names_of(sample(*bigram, 50, constraints, seed=3, known=set(NAMES)))
    assert first != names_of(sample(*bigram, 50, constraints, seed=4, known=set(NAMES)))


def test_top_p_keeps_the_smallest_set_of_likeliest_characters_reaching_p():
    logits = np.log([[0.5, 0.3, 0.15, 0.05]])
    kept = lambda p: np.diff(_cumulative_probabilities(logits, Drawing(top_p=p)), prepend=0) > 0  # noqa: E731
    assert kept(0.5).tolist() == [[True, False, False, False]]
    assert kept(0.6).tolist() == [[True, True, False, False]]
    assert kept(0.9).tolist() == [[True, True, True, False]]
    assert kept(1.0).tolist() == [[True, True, True, True]]


# --- the budget --------------------------------------------------------------------------------


def test_a_spent_budget_returns_what_was_found_and_names_the_hardest_constraint(bigram):
    report = SampleReport()
    constraints = Constraints(contains=("nnn",), ends_with="a", max_length=12)
    names = names_of(sample(*bigram, 50, constraints, seed=0, budget=2_000, report=report))
    assert report.candidates == 2_000 and report.found == len(names) < 50 and not report.complete
    assert all("nnn" in n and n.endswith("a") for n in names)
    hardest, share = report.hardest()
    assert hardest == "`contains` 'nnn'" and share < 0.05
    assert "`contains` 'nnn'" in report.shortfall() and "`budget`" in report.shortfall()


def test_constraints_no_name_can_meet_are_refused_before_any_work(bigram):
    with pytest.raises(UserError, match="at most 4"):
        sample(*bigram, 5, Constraints(ends_with="abelen", max_length=4))


# --- novelty and exclusion ---------------------------------------------------------------------


@pytest.mark.parametrize("distance", [1, 2, 3])
def test_min_distance_keeps_every_name_that_far_from_every_known_one(bigram, distance):
    names = names_of(sample(*bigram, 200, Constraints(min_distance=distance), seed=2, known=set(NAMES)))
    assert len(names) == len(set(names)) == 200
    assert all(min(levenshtein(n, known) for known in NAMES) >= distance for n in names)


def test_novelty_drops_only_the_names_that_are_too_close():
    from villanueva.inference.constraints import Novelty

    queries = ["ana", "anna", "annas", "bela", "zzz"]
    near = Novelty(["ana", "bea"], 2).new(queries)
    assert near == [min(levenshtein(q, k) for k in ("ana", "bea")) >= 2 for q in queries]


def test_excluded_names_are_never_returned(bigram):
    common = Counter(names_of(sample(*bigram, 2_000, seed=5))).most_common(3)
    excluded = frozenset(name for name, _ in common)
    names = names_of(sample(*bigram, 2_000, Constraints(exclude=excluded), seed=5))
    assert len(names) == 2_000 and not excluded & set(names)


# --- explained scores --------------------------------------------------------------------------


def test_surprisals_add_up_to_the_names_loss_with_the_label_summed_out():
    torch.manual_seed(0)
    vocab = Vocab.from_names(NAMES)
    model = build_model("gru", make_config("gru", emb_dim=8, hidden=16), len(vocab), 3).double().eval()
    weights = np.array([0.5, 0.3, 0.2])
    surprisals = character_surprisals(model, vocab, NAMES, weights)
    totals = mixture_log_likelihoods(model, vocab, NAMES, weights)
    assert [len(s) for s in surprisals] == [len(n) + 1 for n in NAMES]
    assert [sum(s) for s in surprisals] == pytest.approx((-totals).tolist(), abs=1e-9)
    assert all(value > 0 for s in surprisals for value in s)


# --- the command line --------------------------------------------------------------------------


def test_sample_formats(cli, tiny_run):
    text = cli("sample", str(tiny_run), "-n", "6", "--seed", "1")
    rows = list(
        csv.DictReader(
            io.StringIO(cli("sample", str(tiny_run), "-n", "6", "--seed", "1", "--format", "csv").out)
        )
    )
    objects = json.loads(cli("sample", str(tiny_run), "-n", "6", "--seed", "1", "--format", "json").out)
    assert text.code == 0 and len(rows) == len(objects) == 6
    assert [line.removesuffix("  (in training data)") for line in text.out.splitlines()] == [
        r["name"] for r in rows
    ]
    assert [o["name"] for o in objects] == [r["name"] for r in rows]
    assert list(rows[0]) == ["name", "loss", "known"]
    assert all(
        float(r["loss"]) == pytest.approx(o["loss"], abs=1e-4) and o["loss"] > 0
        for r, o in zip(rows, objects)
    )


def test_sample_constraints_on_the_command_line(cli, tiny_run, tmp_path):
    names = cli(
        "sample",
        str(tiny_run),
        "--raw",  # the model's own form, which the constraints are about
        "-n",
        "10",
        "--seed",
        "2",
        "--starts-with",
        "V",
        "--ends-with",
        "a",
        "--min-length",
        "5",
        "--max-length",
        "30",
        "--new-only",
    )
    assert names.code == 0, names.err
    lines = names.out.splitlines()
    assert len(lines) == 10 and all(
        n.startswith("v") and n.endswith("a") and 5 <= len(n) <= 30 for n in lines
    )
    taken = tmp_path / "taken.txt"
    taken.write_text("\n".join(lines[:5]) + "\n", encoding="utf-8")
    again = cli(
        "sample",
        str(tiny_run),
        "-n",
        "10",
        "--seed",
        "2",
        "--starts-with",
        "V",
        "--ends-with",
        "a",
        "--min-length",
        "5",
        "--max-length",
        "30",
        "--new-only",
        "--exclude",
        str(taken),
    )
    assert again.code == 0 and not set(lines[:5]) & set(again.out.splitlines())


def test_a_shortfall_writes_what_was_found_and_exits_3(cli, tiny_run):
    result = cli("sample", str(tiny_run), "-n", "5", "--seed", "1", "--contains", "zzzz", "--budget", "500")
    assert result.code == 3 and len(result.err.splitlines()) == 1
    assert "found" in result.err and "--contains 'zzzz'" in result.err


def test_score_a_file_in_every_format_and_explain(cli, tiny_run, tmp_path):
    names = tmp_path / "candidates.txt"
    names.write_text("Villalba\n\nValdemoro\nTorrejón\n", encoding="utf-8")
    rows = list(
        csv.DictReader(
            io.StringIO(cli("score", "--run", str(tiny_run), "--file", str(names), "--format", "csv").out)
        )
    )
    assert [r["name"] for r in rows] == ["Villalba", "Valdemoro", "Torrejon"]
    explained = json.loads(
        cli("score", "--run", str(tiny_run), "Villalba", "--explain", "--format", "json").out
    )[0]
    assert len(explained["surprisals"]) == len("villalba") + 1
    assert sum(explained["surprisals"]) / 9 == pytest.approx(explained["loss"], abs=1e-9)
    assert float(rows[0]["loss"]) == pytest.approx(explained["loss"], abs=1e-4)
    text = cli("score", "--run", str(tiny_run), "Villalba", "--explain").out.splitlines()
    assert (
        text[1].strip() == "Villalba."
        and len(text[2].strip()) == 9
        and text[3].strip().startswith("most surprising")
    )


BAD = {
    "negative length": ["--min-length", "-1"],
    "min above max": ["--min-length", "9", "--max-length", "4"],
    "negative distance": ["--min-distance", "-2"],
    "character outside the vocabulary": ["--ends-with", "ß!"],
    "end token in a constraint": ["--contains", "a.b"],
    "top-p out of range": ["--top-p", "1.5"],
    "zero budget": ["--budget", "0"],
    "missing exclusion file": ["--exclude", "{missing}"],
    "empty exclusion file": ["--exclude", "{empty}"],
    "unreadable exclusion file": ["--exclude", "{binary}"],
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_bad_constraints_are_one_line_errors(cli, tiny_run, tmp_path, case):
    (tmp_path / "empty.txt").write_text("\n\n", encoding="utf-8")
    (tmp_path / "binary.txt").write_bytes(b"\xff\xfe\x00bad")
    files = {
        "missing": tmp_path / "nope.txt",
        "empty": tmp_path / "empty.txt",
        "binary": tmp_path / "binary.txt",
    }
    args = [arg.format(**files) for arg in BAD[case]]
    result = cli("sample", str(tiny_run), "-n", "3", *args)
    assert result.code == 2 and result.out == "" and len(result.err.splitlines()) == 1, result.err


def test_score_needs_names(cli, tiny_run):
    result = cli("score", "--run", str(tiny_run))
    assert result.code == 2 and "--file" in result.err


@pytest.mark.parametrize(
    ("contains", "said"),
    [
        ("7", "`contains` '7' is not in this model's vocabulary"),  # the text is the stranger: said once
        ("a7", "`contains` 'a7' contains '7', not in this model's vocabulary"),
    ],
)
def test_a_character_outside_the_vocabulary_is_named_once(contains, said):
    vocab = Vocab.from_names(NAMES)
    with pytest.raises(UserError) as raised:
        Constraints(contains=(contains,)).cleaned(vocab, keep_accents=False)
    assert str(raised.value).startswith(said)
