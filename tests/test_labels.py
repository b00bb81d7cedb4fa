"""Labels: the province -> community table, labelled corpora and splits, conditioned models,
marginal losses, guessing (on a tiny list where the answer is known) and sampling by label."""

import csv
import json
import random

import numpy as np
import pytest
import torch

from villanueva.data import LabelSet, Vocab, load_corpus, split_names
from villanueva.data.embedded import COMMUNITIES, COMMUNITY_OF
from villanueva.data.labels import Labelling, folded
from villanueva.errors import UserError
from villanueva.inference import guess_labels, sample_names, score_names
from villanueva.inference.score import label_log_likelihoods, marginal_loss
from villanueva.models import build_model, make_config
from villanueva.runs import load_run

SYLLABLES = {"north": ["zu", "xa", "kez", "gux", "tza"], "south": ["lo", "ma", "nos", "del", "sol"]}
CLIMATE = {"north": "cold", "south": "warm"}  # a grouping of the regions, as a CSV column


def regional_names(count: int, seed: int = 0) -> list[tuple[str, str]]:
    """Names of two regions that share no letter, so that a name's region is never in doubt."""
    rng = random.Random(seed)
    rows = []
    for _ in range(count):
        region = rng.choice(sorted(SYLLABLES))
        rows.append(("".join(rng.choices(SYLLABLES[region], k=rng.randint(2, 4))), region))
    return rows


@pytest.fixture(scope="module")
def regions_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "places.csv"
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["name", "region", "climate"])
        writer.writerows((name, region, CLIMATE[region]) for name, region in regional_names(400))
    return path


@pytest.fixture(scope="module")
def regions_run(regions_csv, tmp_path_factory):
    from villanueva.cli import main

    out = tmp_path_factory.mktemp("runs") / "regions"
    args = ["train", "--data", str(regions_csv), "--column", "name", "--label-column", "region"]
    args += [
        "--group-column",
        "climate",
        "--hidden",
        "32",
        "--steps",
        "300",
        "--eval-every",
        "100",
        "--out",
        str(out),
        "--quiet",
    ]
    assert main(args) == 0
    return out


# The label table.


def test_every_embedded_province_has_one_of_nineteen_communities():
    provinces = set(load_corpus(label="province").labels)
    assert len(provinces) == 52 and provinces == set(COMMUNITY_OF)
    assert len(COMMUNITIES) == 19 and {"Ceuta", "Melilla"} <= set(COMMUNITIES)
    assert sum(len(members) for members in COMMUNITIES.values()) == 52
    assert COMMUNITY_OF["Girona"] == "Cataluña" and COMMUNITY_OF["A Coruña"] == "Galicia"


def test_the_embedded_provinces_are_spelled_officially():
    provinces = set(load_corpus(label="province").labels)
    assert {"A Coruña", "Illes Balears", "Las Palmas", "La Rioja", "Lleida"} <= provinces
    assert not {"Coruña, A", "lerida"} & provinces


def test_community_labels_follow_the_provinces():
    by_province, by_community = load_corpus(label="province"), load_corpus(label="community")
    assert by_province.names == by_community.names
    assert by_community.labels == [COMMUNITY_OF[p] for p in by_province.labels]


@pytest.fixture(scope="module")
def province_labels():
    corpus = load_corpus(label="province")
    return corpus.label_set("province", corpus.labels)


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("girona", ["Girona"]),
        ("A CORUNA", ["A Coruña"]),
        ("Lérida", ["Lleida"]),
        ("castilla la mancha", ["Albacete", "Ciudad Real", "Cuenca", "Guadalajara", "Toledo"]),
        ("  Galicia ", ["A Coruña", "Lugo", "Ourense", "Pontevedra"]),
        ("Euskadi", ["Bizkaia", "Gipuzkoa", "Álava"]),
    ],
)
def test_labels_and_communities_are_matched_as_typed(province_labels, typed, expected):
    assert sorted(province_labels.names[i] for i in province_labels.members(typed)) == sorted(expected)


def test_an_unknown_label_names_the_closest(province_labels):
    with pytest.raises(UserError, match="did you mean Girona"):
        province_labels.members("Gironna")
    with pytest.raises(UserError, match="unknown label 'Atlantis'"):
        province_labels.members("Atlantis")


def test_label_weights_keep_the_prior_within_a_group(province_labels):
    weights = province_labels.weights("Galicia")
    chosen = np.flatnonzero(weights).tolist()
    assert sorted(province_labels.names[i] for i in chosen) == ["A Coruña", "Lugo", "Ourense", "Pontevedra"]
    assert weights.sum() == pytest.approx(1)
    prior = province_labels.prior()
    assert weights[chosen[0]] / weights[chosen[1]] == pytest.approx(prior[chosen[0]] / prior[chosen[1]])


def test_labels_round_trip_through_json(province_labels):
    assert LabelSet.from_json(province_labels.to_json()) == province_labels
    assert folded("Castilla-La  Mancha") == "castilla la mancha"


# Labelled data and splits.


def test_a_csv_label_column(regions_csv):
    corpus = load_corpus(str(regions_csv), "name", label="region")
    assert set(corpus.labels) == {"north", "south"} and len(corpus.labels) == len(corpus.names)


@pytest.mark.parametrize(
    "path_kind, column, label, message",
    [
        ("csv", "name", "country", "has no column 'country'"),
        ("txt", None, "region", "`label_column` needs a CSV file"),
        ("embedded", None, "country", "can be conditioned on province or community"),
    ],
)
def test_bad_label_columns_are_one_line_errors(tmp_path, regions_csv, path_kind, column, label, message):
    path = {"csv": str(regions_csv), "embedded": None}.get(path_kind)
    if path_kind == "txt":
        path = tmp_path / "names.txt"
        path.write_text("Toro\nZamora\n", encoding="utf-8")
    with pytest.raises(UserError, match=message):
        load_corpus(path, column, label=label)


def test_a_csv_group_column_groups_the_labels(regions_csv):
    corpus = load_corpus(str(regions_csv), "name", label="region", group="climate")
    assert corpus.labelling == Labelling("climate", {"cold": ["north"], "warm": ["south"]})
    labels = corpus.label_set("region", corpus.labels)
    assert labels.group_kind == "climate" and labels.members("warm") == [labels.names.index("south")]


def test_a_label_in_two_groups_is_refused_with_both_lines(tmp_path):
    path = tmp_path / "places.csv"
    path.write_text("name,region,climate\nToro,north,cold\nZamora,north,warm\n", encoding="utf-8")
    with pytest.raises(UserError, match="'north' is in climate 'cold' on line 2 and 'warm' on line 3"):
        load_corpus(str(path), "name", label="region", group="climate")


def test_a_run_guesses_and_samples_by_its_csv_groups(regions_run, cli):
    guessed = cli(
        "guess", "--run", str(regions_run), "Zuxa", "Lomanos", "--by", "climate", "--format", "json"
    )
    assert guessed.code == 0, guessed.err
    best = [guess["labels"][0]["label"] for guess in json.loads(guessed.out)]
    assert best == ["cold", "warm"]
    sampled = cli("sample", str(regions_run), "--label", "warm", "-n", "5", "--seed", "1", "--format", "json")
    assert sampled.code == 0 and {name["label"] for name in json.loads(sampled.out)} == {"south"}


def test_a_name_without_a_label_is_an_error(tmp_path):
    path = tmp_path / "places.csv"
    path.write_text("name,region\nToro,north\nZamora,\n", encoding="utf-8")
    with pytest.raises(UserError, match="line 3: 'Zamora' has no region"):
        load_corpus(str(path), "name", label="region")


def test_labels_follow_their_names_through_the_split():
    corpus = load_corpus(label="province")
    plain, labelled = split_names(corpus.names), split_names(corpus.names, labels=corpus.labels)
    assert labelled.parts() == plain.parts()
    label_of = {}
    for name, province in zip(corpus.names, corpus.labels):
        label_of.setdefault(name, set()).add(province)
    for part, names in labelled.parts().items():
        assert all(label in label_of[name] for name, label in zip(names, labelled.labels[part]))


# Conditioned models.


@pytest.mark.parametrize("kind", ["gru", "transformer"])
def test_the_label_changes_every_prediction(kind):
    vocab = Vocab.from_names(["abc"])
    torch.manual_seed(0)
    model = build_model(kind, make_config(kind, dropout=0.0), len(vocab), label_count=2).eval()
    first, _ = model.examples(["abc", "abc"], vocab, [0, 1])
    logits = model(first)
    assert logits.shape == (2, 4, len(vocab))
    assert not torch.isclose(logits[0], logits[1]).all(dim=1).any()  # every position differs


@pytest.mark.parametrize("kind", ["gru", "transformer"])
def test_an_unconditioned_model_is_unchanged(kind):
    """No label embedding, the same weights from the same seed: conditioning is only switched on."""
    torch.manual_seed(0)
    plain = build_model(kind, make_config(kind), 29)
    torch.manual_seed(0)
    again = build_model(kind, make_config(kind), 29, label_count=0)
    assert "label_embedding.weight" not in plain.state_dict()
    assert all(torch.equal(a, b) for a, b in zip(plain.state_dict().values(), again.state_dict().values()))


def test_window_models_cannot_be_conditioned():
    with pytest.raises(UserError, match="cannot be conditioned.*gru, transformer"):
        build_model("mlp", make_config("mlp"), 29, label_count=3)


# A conditioned run on the two regions.


def test_guess_finds_the_region_of_unseen_names(regions_run):
    run = load_run(regions_run)
    guesses = guess_labels(run.model, run.vocab, run.labels, ["zuxakez", "Tzaguxzu", "nosdelma", "solmalo"])
    assert [guess.labels[0][0] for guess in guesses] == ["north", "north", "south", "south"]
    assert all(guess.labels[0][1] > 0.95 for guess in guesses)
    assert all(sum(p for _, p in guess.labels) == pytest.approx(1) for guess in guesses)  # two labels


def test_sampling_by_label_gives_that_regions_names(regions_run):
    run = load_run(regions_run)
    north = set("".join(SYLLABLES["north"]))
    names = sample_names(run.model, run.vocab, 50, seed=3, label_weights=run.label_weights("north"))
    assert sum(set(name) <= north for name in names) >= 45
    again = sample_names(run.model, run.vocab, 50, seed=3, label_weights=run.label_weights("north"))
    assert names == again


def test_the_marginal_likelihood_sums_the_label_out(regions_run):
    run = load_run(regions_run)
    names = ["zuxa", "lomas"]
    per_label = label_log_likelihoods(run.model, run.vocab, names, [0, 1])
    prior = run.labels.prior()
    expected = [
        -float(torch.logsumexp(torch.from_numpy(per_label[i] + np.log(prior)), 0)) / (len(name) + 1)
        for i, name in enumerate(names)
    ]
    scored = [loss for _, loss in score_names(run.model, run.vocab, names, label_weights=prior)]
    assert scored == pytest.approx(expected)
    # One label given: the conditional loss, which is the lower one for a name of that region.
    north = [
        loss for _, loss in score_names(run.model, run.vocab, names, label_weights=run.label_weights("north"))
    ]
    assert north[0] < scored[0] and north[1] > scored[1]
    assert marginal_loss(run.model, run.vocab, names, run.labels) == pytest.approx(
        -float(torch.logsumexp(torch.from_numpy(per_label + np.log(prior)), 1).sum())
        / (len("zuxa") + len("lomas") + 2)
    )


def test_a_conditioned_run_records_both_losses(regions_run, cli):
    result = cli("eval", str(regions_run))
    assert result.code == 0
    lines = dict(line.rsplit(" loss ", 1) for line in result.out.splitlines())
    assert set(lines) == {"train", "val", "test", "val marginal", "test marginal"}
    # The regions are told apart by their letters, so knowing the label is worth about ln 2 per name.
    assert float(lines["val"]) < float(lines["val marginal"])


# The commands.


def test_labels_command_lists_the_labels(regions_run, cli):
    result = cli("labels", str(regions_run))
    assert result.code == 0
    assert result.out.splitlines()[0] == "2 region labels (training names each):"
    lines = result.out.splitlines()
    counts = [int(line.split()[-1]) for line in lines[1:3]]
    assert sum(counts) == len(load_run(regions_run).split.train)
    assert lines[3] == "2 climate groups, each a --label too (training names, its region labels):"
    assert lines[4].split() == ["cold", str(counts[0]), "north"]


def test_guess_command(regions_run, cli):
    result = cli("guess", "--run", str(regions_run), "Zuxa", "Lomas", "--top", "1")
    assert result.code == 0
    assert [line.split()[:2] for line in result.out.splitlines()] == [["Zuxa", "north"], ["Lomas", "south"]]


def test_guess_says_when_a_name_is_real_and_gives_its_own_labels(regions_run, cli):
    run = load_run(regions_run)
    real = run.split.val[0]  # a name the model did not train on, but the run's data holds
    region = run.split.labels["val"][0]
    result = cli("guess", "--run", str(regions_run), real, "zuxakezgux", "--top", "1", "--format", "json")
    assert result.code == 0, result.err
    guesses = json.loads(result.out)
    assert [guess["real"] for guess in guesses] == [[region], []]
    by_group = cli("guess", "--run", str(regions_run), real, "--by", "climate", "--top", "1")
    assert by_group.out.rstrip().endswith(f"(a real name of {CLIMATE[region]})")
    scored = cli("score", "--run", str(regions_run), real, "zuxakezgux")
    assert scored.out.splitlines()[0].endswith(f"(a real name of {region})")
    assert "real name" not in scored.out.splitlines()[1]


@pytest.mark.parametrize(
    "args, message",
    [
        (["sample", "{run}", "--label", "west"], "unknown label 'west'"),
        (["guess", "--run", "{run}", "Zu", "--by", "community"], "can only guess by region or climate"),
        (["guess", "--run", "{run}", "Zu", "--top", "0"], "--top must be at least 1, got 0"),
        (["guess", "--run", "{run}", "Zu!"], "not in this model's vocabulary"),
        (["guess", "--run", "{tiny}", "Toro"], "not conditioned on labels"),
        (["sample", "{tiny}", "--label", "north"], "not conditioned on labels"),
        (["labels", "{tiny}"], "not conditioned on labels"),
        (["train", "--condition", "province", "--data", "{csv}"], "--condition labels the embedded list"),
        (["train", "--label-column", "region"], "--label-column needs --data"),
        (
            ["train", "--group-column", "climate"],
            "--group-column groups the labels of a --label-column; give one too",
        ),
        (["train", "--condition", "province", "--model", "mlp"], "'mlp' cannot be conditioned"),
        (["train", "--condition", "country"], "invalid choice: 'country'"),
    ],
)
def test_label_mistakes_are_one_line(regions_run, regions_csv, tiny_run, cli, tmp_path, args, message):
    values = {"run": regions_run, "tiny": tiny_run, "csv": regions_csv}
    args = [arg.format(**values) for arg in args] + (
        ["--out", str(tmp_path / "out")] if args[0] == "train" else []
    )
    result = cli(*args)
    assert result.code == 2
    assert message in result.err and len(result.err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_a_label_as_written_wins_over_one_that_folds_alike():
    labels = LabelSet("place", ["Ñandú", "NANDU", "Köln", "koln", "Girona"], [1] * 5, {})
    assert [labels.members(text) for text in ("Ñandú", "NANDU", "Köln", "koln", "girona")] == [
        [0],
        [1],
        [2],
        [3],
        [4],
    ]
    with pytest.raises(UserError, match="could be 'Ñandú' or 'NANDU'"):
        labels.members("nandu")


def test_thousands_of_labels_skip_the_marginal_loss_and_say_so(cli, tmp_path):
    """Summing the label out scores every name under every label: 300 names x 3,000 labels is
    past the bound, so training ends at once instead of after minutes without a word."""
    rng = random.Random(0)
    names = tmp_path / "many.csv"
    rows = [f"{''.join(rng.choices('abcdefghij', k=rng.randint(3, 8)))},l{i}" for i in range(3000)]
    names.write_text("name,label\n" + "\n".join(rows) + "\n")
    run = tmp_path / "run"
    options = ["--column", "name", "--label-column", "label", "--model", "gru", "--hidden", "8"]
    trained = cli("train", "--data", str(names), *options, "--steps", "10", "--out", str(run))
    assert trained.code == 0 and "summed out (the prior's mixture): not computed (more than" in trained.out
    evaluated = cli("eval", str(run))
    parts = [line.split(" loss ")[0] for line in evaluated.out.splitlines()]
    assert evaluated.code == 0 and parts == ["train", "val", "test", "marginal"]
    assert "not computed" in evaluated.out.splitlines()[-1]
