"""wavenet, gru and transformer: shapes, causality, the loss definition, sampling, scoring, the CLI,
early stopping, weight decay and resume."""

import copy
import json
import math

import numpy as np
import pytest
import torch
from torch import nn

from villanueva.data import Vocab, load_corpus, split_names
from villanueva.data.tensors import IGNORED, whole_names
from villanueva.errors import UserError
from villanueva.inference import Constraints, Drawing, sample, sample_names, score_names
from villanueva.inference.graphs import full_prefix_steps, torch_steps
from villanueva.inference.sample import Sampler
from villanueva.models import build_model, make_config
from villanueva.models.base import WholeNameModel, WindowModel
from villanueva.models.loss import batch_loss
from villanueva.runs.run import METRICS
from villanueva.training import Callbacks, TrainConfig, initial_loss, names_loss, train

from helpers import assert_same_run, finish, kill_9_at_random_then_resume

NAMES = ["villanueva de la serena", "alcala", "toro", "la rioja", "o", "valdepenas de jaen"]
VOCAB = Vocab.from_names(NAMES)
SEQUENCE_MODELS = ["gru", "transformer"]
NEW_MODELS = ["wavenet", *SEQUENCE_MODELS]
TINY = {
    "wavenet": dict(emb_dim=4, hidden=16),
    "gru": dict(emb_dim=8, hidden=16),
    "transformer": dict(emb_dim=16, heads=2, blocks=2),
}


def tiny(name: str, seed: int = 0, **options) -> nn.Module:
    torch.manual_seed(seed)
    return build_model(name, make_config(name, **{**TINY[name], **options}), len(VOCAB)).eval()


# --- shapes and initialisation ---------------------------------------------------------------


def test_whole_name_examples_layout():
    inputs, targets = whole_names(["ab", "c"], Vocab.from_names(["abc"]), IGNORED)
    assert inputs.tolist() == [[0, 1, 2], [0, 3, 0]]  # start token, characters; padded with '.'
    assert targets.tolist() == [[1, 2, 0], [3, 0, IGNORED]]  # characters, end token; padding ignored


@pytest.mark.parametrize("name", SEQUENCE_MODELS)
def test_sequence_models_predict_every_position(name):
    model = tiny(name)
    assert isinstance(model, WholeNameModel)
    inputs, targets = model.examples(NAMES, VOCAB)
    assert inputs.shape == targets.shape == (len(NAMES), max(map(len, NAMES)) + 1)
    assert model(inputs).shape == (*inputs.shape, len(VOCAB))


def test_wavenet_fuses_pairs_level_by_level():
    model = tiny("wavenet", block_size=16)
    assert not isinstance(model, WholeNameModel)
    inputs, targets = model.examples(NAMES, VOCAB)
    assert inputs.shape == (sum(len(n) + 1 for n in NAMES), 16) and targets.dim() == 1
    assert model(inputs).shape == (len(inputs), len(VOCAB))
    assert [type(layer).__name__ for layer in model.layers].count("FlattenConsecutive") == 4  # log2 16
    with pytest.raises(UserError, match="power of two"):
        make_config("wavenet", block_size=6)


@pytest.fixture(scope="module")
def notebook_train(notebook_csv):
    corpus = load_corpus(str(notebook_csv), column="Nom")
    return Vocab.from_names(corpus.names), split_names(corpus.names).train[:1000]


@pytest.mark.parametrize("name", NEW_MODELS)
def test_default_init_starts_near_a_uniform_guess(notebook_train, name):
    vocab, names = notebook_train
    torch.manual_seed(0)
    model = build_model(name, make_config(name), len(vocab))
    loss = initial_loss(model, *model.examples(names, vocab))
    assert abs(loss - math.log(len(vocab))) < 0.05, loss


def test_tied_weights_have_one_embedding_matrix():
    tied, untied = tiny("transformer"), tiny("transformer", tie_weights=False)
    assert "output.weight" not in tied.state_dict() and "output.weight" in untied.state_dict()
    count = lambda model: sum(p.numel() for p in model.parameters())  # noqa: E731
    assert count(untied) - count(tied) == 16 * len(VOCAB)


def test_model_options_are_checked():
    for name, options, words in [
        ("transformer", dict(emb_dim=10, heads=4), "must divide"),
        ("gru", dict(dropout=1.0), "`dropout`"),
        ("transformer", dict(max_length=0), "`max_length`"),
        ("gru", dict(layers=0), "`layers`"),
    ]:
        with pytest.raises(UserError, match=words):
            make_config(name, **options)


# --- causality and padding ---------------------------------------------------------------------


@pytest.mark.parametrize("name", SEQUENCE_MODELS)
def test_a_later_character_never_changes_an_earlier_prediction(name):
    model = tiny(name)
    inputs = torch.randint(0, len(VOCAB), (4, 12), generator=torch.Generator().manual_seed(1))
    before = model(inputs)
    for changed in (1, 6, 11):
        edited = inputs.clone()
        edited[:, changed] = (edited[:, changed] + 1) % len(VOCAB)
        after = model(edited)
        torch.testing.assert_close(after[:, :changed], before[:, :changed], rtol=0, atol=1e-6)
        assert not torch.allclose(after[:, changed], before[:, changed])  # the test can see a change


@pytest.mark.parametrize("name", NEW_MODELS)
def test_padding_never_changes_a_names_loss(name):
    model = tiny(name)
    alone = [names_loss(model, VOCAB, [n]) for n in NAMES]  # each name on its own: no padding
    scored = dict(score_names(model, VOCAB, NAMES))  # together, padded to the longest
    assert [scored[n] for n in NAMES] == pytest.approx(alone, rel=1e-5)


@pytest.mark.parametrize("name", SEQUENCE_MODELS)
def test_trimming_a_batch_keeps_its_loss(name):
    model = tiny(name)
    inputs, targets = (tensor[1:4] for tensor in model.examples(NAMES, VOCAB))  # short names
    short_inputs, short_targets = model.trimmed(inputs, targets)
    assert short_targets.shape[1] == max(map(len, NAMES[1:4])) + 1 < targets.shape[1]
    torch.testing.assert_close(
        batch_loss(model(short_inputs), short_targets), batch_loss(model(inputs), targets)
    )


@pytest.mark.parametrize("name", SEQUENCE_MODELS)
def test_loss_is_the_per_window_definition(name):
    """One pass over padded whole names gives exactly the DESIGN loss: the mean, over every
    character and end token, of -log p(character | the name before it), each computed alone."""
    model = tiny(name).double()
    total, count = 0.0, 0
    for text in NAMES:
        ids = VOCAB.encode(text) + [0]
        for position, target in enumerate(ids):
            context = torch.tensor([[0] + ids[:position]])  # the start token and what came before
            log_probs = torch.log_softmax(model(context)[0, -1], dim=0)
            total -= log_probs[target].item()
            count += 1
    assert names_loss(model, VOCAB, NAMES) == pytest.approx(total / count, rel=1e-12, abs=0)


def test_names_longer_than_the_positions_are_refused():
    model = tiny("transformer", max_length=8)
    inputs, _ = model.examples(["la rioja"], VOCAB)  # 8 characters fit
    assert model(inputs).shape == (1, 9, len(VOCAB))
    with pytest.raises(UserError, match="'villanueva de la serena' has 23 .* at most 8 .*`max_length`"):
        model.examples(NAMES, VOCAB)


def names_of(batches) -> list[str]:
    return [sampled.name for batch in batches for sampled in batch]


# --- sampling and scoring ----------------------------------------------------------------------


def greedy(model, prefix: str, limit: int) -> str:
    """The likeliest character at each step, one name, no batching: what top-k 1 must give."""
    ids, out = [0] + VOCAB.encode(prefix), []
    while len(out) < limit:
        logits = (
            model(torch.tensor([ids]))[0, -1]
            if isinstance(model, WholeNameModel)
            else model(torch.tensor([([0] * model.block_size + ids[1:])[-model.block_size :]]))[0]
        )
        if (next_id := int(logits.argmax())) == 0:
            break
        ids.append(next_id)
        out.append(next_id)
    return prefix + VOCAB.decode(out)


@pytest.mark.parametrize("name", NEW_MODELS)
@pytest.mark.parametrize("prefix", ["", "val"])
def test_top_1_sampling_is_greedy_decoding_of_the_prefix(name, prefix):
    model = tiny(name)
    expected = greedy(model, prefix, 41 - len(prefix))  # longer than 40 characters: it never ends by then
    constraints = Constraints(starts_with=prefix, max_length=40)
    batches = sample(model, VOCAB, 3, constraints, Drawing(top_k=1), seed=0, budget=30)
    # A name that would go on past the limit is dropped, never cut: greedy decoding ends in time or
    # never; and an empty name (the end token first) is no name.
    kept = 1 <= len(expected) <= 40
    assert [s.name for batch in batches for s in batch] == ([expected] * 3 if kept else [])


@pytest.mark.parametrize("name", SEQUENCE_MODELS)
@pytest.mark.parametrize("label_count", [0, 3])
def test_incremental_decoding_gives_the_logits_of_reading_the_whole_prefix(name, label_count):
    torch.manual_seed(1)
    config = make_config(
        name, **TINY[name], **(dict(label_dropout=0.3, style_table=True) if label_count else {})
    )
    model = build_model(name, config, len(VOCAB), label_count).double().eval()
    if label_count:
        torch.nn.init.normal_(model.style.weight)  # it starts at zero, which would test nothing
    count, prefix = 6, VOCAB.encode("la ")
    labels = torch.randint(label_count, (count,)).tolist() if label_count else None
    ids = model.with_labels(torch.tensor([[0, *prefix]] * count), labels)
    steps = torch_steps(model)  # what the sampler calls, in numpy
    state = steps.start(count, prefix, None if labels is None else np.array(labels))
    with torch.no_grad():
        for step in range(12):
            expected = model(ids)[:, -1].numpy()
            assert np.allclose(steps.logits(state), expected, rtol=0, atol=1e-12), step
            next_ids = torch.randint(1, len(VOCAB), (len(ids),))
            keep = torch.rand(len(ids)) > 0.15  # names leave the batch as they end
            ids = torch.cat([ids[keep], next_ids[keep, None]], dim=1)
            state = steps.extend(state, next_ids.numpy(), keep.numpy())


@pytest.mark.parametrize("name", SEQUENCE_MODELS)
@pytest.mark.parametrize("label_count", [0, 3])
def test_incremental_decoding_samples_the_names_of_full_prefix_decoding(name, label_count):
    torch.manual_seed(2)
    model = build_model(name, make_config(name, **TINY[name]), len(VOCAB), label_count).eval()
    weights = torch.full((label_count,), 1 / label_count) if label_count else None
    for prefix, drawing in (
        ("", Drawing(temperature=2.0)),
        ("la ", Drawing(temperature=1.5, top_k=12, top_p=0.95)),
    ):
        # An untrained model's names often go on past 100 characters (a high temperature makes its end
        # token likelier), and a small budget bounds the work.
        fast, slow = (
            names_of(
                sample(
                    m,
                    VOCAB,
                    300,
                    Constraints(starts_with=prefix),
                    drawing,
                    seed=3,
                    label_weights=weights,
                    budget=3000,
                )
            )
            for m in (model, full_prefix_steps(model))
        )
        assert fast == slow and len(fast) > 100


@pytest.mark.parametrize("name", SEQUENCE_MODELS)
def test_decoding_keeps_no_autograd_graph(name):
    # A graph kept from step to step held about 100 KB a name: 2 GB for one round of 16,384. (A
    # tensor that needs its gradient refuses to become the numpy array the sampler works on.)
    assert torch.is_grad_enabled() and sample_names(tiny(name), VOCAB, 20, seed=1)


@pytest.mark.parametrize("name", NEW_MODELS)
def test_temperature_sharpens_the_next_character_distribution(name):
    model = tiny(name)
    prefix, temperature = "la ", 0.05
    with torch.no_grad():
        context = VOCAB.encode(prefix)
        if isinstance(model, WholeNameModel):
            logits = model(torch.tensor([[0, *context]]))[0, -1]
        else:
            logits = model(torch.tensor([([0] * model.block_size + context)[-model.block_size :]]))[0]
    expected = torch.softmax(logits / temperature, dim=0)
    top = int(expected.argmax())
    # The decoding loop itself, one character deep: the first character drawn after the prefix
    # (whole names at this temperature could go on past any length limit, and be dropped).
    steps = torch_steps(model)
    sampler = Sampler(
        steps.max_length,
        VOCAB,
        2000,
        Constraints(starts_with=prefix),
        Drawing(temperature=temperature),
        seed=3,
    )
    first, _ = sampler.draw(steps.logits(steps.start(*sampler.begin())))
    share = float(np.mean(first == top))
    p = expected[top].item()
    assert abs(share - p) < 4 * math.sqrt(p * (1 - p) / len(first)) + 1e-3, (share, p)
    assert sample_names(model, VOCAB, 20, seed=4) == sample_names(model, VOCAB, 20, seed=4)
    assert sample_names(model, VOCAB, 20, seed=4) != sample_names(model, VOCAB, 20, seed=5)


def test_sampling_never_goes_past_the_transformers_last_position():
    model = tiny("transformer", max_length=6)
    names = sample_names(model, VOCAB, 50, seed=0, temperature=3.0)
    assert len(names) == 50 and all(len(n) <= 6 for n in names)
    # A name already as long as the model reads can only end there: only those that do are kept.
    assert sample_names(model, VOCAB, 2, seed=0, prefix="alcala") == ["alcala", "alcala"]
    with pytest.raises(UserError, match="at most 6"):
        sample_names(model, VOCAB, 2, prefix="alcalas")


@pytest.mark.parametrize("name", NEW_MODELS)
def test_score_is_each_names_loss(name):
    model = tiny(name)
    for text, loss in score_names(model, VOCAB, ["Alcalá", "TORO", "vil la"]):
        assert loss == pytest.approx(names_loss(model, VOCAB, [text]), rel=1e-6)


# --- the CLI -----------------------------------------------------------------------------------

CLI_OPTIONS = {
    "wavenet": ["--emb-dim", "4", "--hidden", "16"],
    "gru": ["--emb-dim", "8", "--hidden", "16"],
    "transformer": ["--emb-dim", "16", "--heads", "2", "--blocks", "1"],
}


@pytest.mark.parametrize("name", NEW_MODELS)
def test_train_eval_sample_score(cli, tiny_names_file, tmp_path, name):
    run = tmp_path / name
    result = cli(
        "train",
        "--model",
        name,
        *CLI_OPTIONS[name],
        "--data",
        str(tiny_names_file),
        "--steps",
        "20",
        "--out",
        str(run),
        "--quiet",
    )
    assert result.code == 0, result.err
    final = json.loads((run / METRICS).read_text().splitlines()[-1])
    assert final["steps"] == 20 and final["stopped_early"] is False
    printed = dict(line.rsplit(" loss ", 1) for line in cli("eval", str(run)).out.splitlines())
    assert float(printed["val"]) == pytest.approx(final["best"]["val"], abs=1e-4)
    sampled = cli(
        "sample",
        str(run),
        "-n",
        "7",
        "--seed",
        "1",
        "--prefix",
        "Vi",
        "--top-k",
        "3",
        "--temperature",
        "0.7",
        "--raw",
    )
    assert sampled.code == 0 and len(sampled.out.splitlines()) == 7
    assert all(line.startswith("vi") for line in sampled.out.splitlines())
    scored = cli("score", "--run", str(run), "Villalba", "Toro")
    assert scored.code == 0 and scored.out.splitlines()[0].endswith("  Villalba  (in training data)")


def test_regularisation_options_reach_the_run(cli, tiny_names_file, tmp_path):
    run = tmp_path / "run"
    result = cli(
        "train",
        "--model",
        "transformer",
        *CLI_OPTIONS["transformer"],
        "--dropout",
        "0.2",
        "--no-tie-weights",
        "--weight-decay",
        "0.1",
        "--warmup",
        "5",
        "--patience",
        "3",
        "--data",
        str(tiny_names_file),
        "--steps",
        "10",
        "--out",
        str(run),
        "--quiet",
    )
    assert result.code == 0, result.err
    config = json.loads((run / "config.json").read_text())
    assert config["model_config"]["dropout"] == 0.2 and config["model_config"]["tie_weights"] is False
    assert (config["train"]["weight_decay"], config["train"]["warmup"], config["train"]["patience"]) == (
        0.1,
        5,
        3,
    )
    assert config["train"]["batch_size"] == 32  # the whole-name fast recipe counts names


BAD = {
    "name longer than the positions": ["--model", "transformer", "--max-length", "10"],
    "heads that do not divide the width": ["--model", "transformer", "--heads", "3"],
    "wavenet block not a power of two": ["--model", "wavenet", "--block-size", "12"],
    "dropout of one": ["--model", "gru", "--dropout", "1"],
    "negative patience": ["--patience", "-1"],
    "negative weight decay": ["--weight-decay", "-0.1"],
    "nan weight decay": ["--weight-decay", "nan"],
    "negative warmup": ["--warmup", "-3"],
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_options_are_one_line_errors(cli, tiny_names_file, tmp_path, case):
    out = tmp_path / "run"
    result = cli(
        "train", *BAD[case], "--data", str(tiny_names_file), "--steps", "5", "--out", str(out), "--quiet"
    )
    assert result.code == 2 and "Traceback" not in result.err, result.err
    assert len(result.err.strip().splitlines()) == 1
    assert not out.exists(), "a failed train must not leave a run directory behind"


# --- early stopping and weight decay -------------------------------------------------------------


class Flat(WindowModel):
    """Predicts uniformly whatever its weights: the validation loss never improves, gradients are 0."""

    block_size = 1

    def __init__(self):
        super().__init__(None, 3)
        self.weight = nn.Parameter(torch.ones(3, 2))
        self.bias = nn.Parameter(torch.ones(2))

    def forward(self, idx):
        return torch.zeros(len(idx), 3) + 0 * (self.weight.sum() + self.bias.sum())


def flat_examples():
    targets = torch.randint(0, 3, (40,), generator=torch.Generator().manual_seed(0))
    return torch.zeros(40, 1, dtype=torch.long), targets


def test_early_stopping_stops_and_resumes_to_the_same_stop():
    examples = flat_examples()
    config = TrainConfig(steps=100, eval_every=10, patience=3, batch_size=8)
    checkpoints = []  # copies: a checkpoint shares tensors and lists with the live loop until saved
    result = train(
        Flat(),
        examples,
        examples,
        config,
        Callbacks(on_checkpoint=lambda checkpoint: checkpoints.append(copy.deepcopy(checkpoint))),
    )
    # The first validation is the best; three more without improvement stop the run.
    assert result.stopped_early and result.steps_done == 40 and result.best_step == 10
    assert [record["step"] for record in result.history] == [10, 20, 30, 40]
    validations = [(record["step"], record["val_loss"]) for record in result.history]
    for checkpoint in checkpoints:  # resumed after any validation, even the one that stopped it
        resumed = train(Flat(), examples, examples, config, resume=checkpoint)
        assert resumed.stopped_early and resumed.steps_done == 40
        assert [(record["step"], record["val_loss"]) for record in resumed.history] == validations
    never = train(Flat(), examples, examples, TrainConfig(steps=100, eval_every=10, batch_size=8))
    assert not never.stopped_early and never.steps_done == 100


def test_weight_decay_shrinks_matrices_but_not_biases():
    model, examples = Flat(), flat_examples()
    train(model, examples, examples, TrainConfig(steps=1, lr=0.1, weight_decay=0.5, batch_size=8))
    # Zero gradients: AdamW's step is the decay alone, weight * (1 - lr * weight_decay).
    torch.testing.assert_close(model.weight.detach(), torch.full((3, 2), 0.95))
    torch.testing.assert_close(model.bias.detach(), torch.ones(2))


def test_gradient_clipping_caps_the_size_of_a_step():
    examples = tiny("gru").examples(NAMES, VOCAB)
    changes = {}
    for clip in (0.0, 1e-3):
        model = tiny("gru")
        before = [p.detach().clone() for p in model.parameters()]
        train(
            model,
            examples,
            examples,
            TrainConfig(optimizer="sgd", steps=1, lr=1.0, batch_size=6, grad_clip=clip),
        )
        changes[clip] = torch.cat([(p.detach() - b).flatten() for p, b in zip(model.parameters(), before)])
    assert changes[0.0].norm() > 1e-2  # unclipped, the step is far larger than the cap
    assert changes[1e-3].norm() <= 1e-3 * (1 + 1e-4)  # SGD at lr 1: the change is the clipped gradient
    with pytest.raises(UserError, match="`grad_clip`"):
        TrainConfig(grad_clip=-1.0)


def test_cli_reports_an_early_stop(cli, tiny_names_file, tmp_path):
    run = tmp_path / "run"
    result = cli(
        "train",
        "--model",
        "gru",
        "--hidden",
        "32",
        "--data",
        str(tiny_names_file),
        "--steps",
        "400",
        "--eval-every",
        "10",
        "--patience",
        "2",
        "--out",
        str(run),
        "--quiet",
    )
    assert result.code == 0, result.err
    assert "stopped early" in result.out
    final = json.loads((run / METRICS).read_text().splitlines()[-1])
    assert final["stopped_early"] is True and final["steps"] < 400
    assert final["steps"] == final["best_step"] + 2 * 10


# --- kill -9 and resume of a whole-name model with dropout -------------------------------------------

TRANSFORMER = [
    "--model",
    "transformer",
    *CLI_OPTIONS["transformer"],
    "--steps",
    "300",
    "--seed",
    "5",
    "--quiet",
]


def test_kill_9_then_resume_a_transformer_equals_an_uninterrupted_run(tiny_names_file, tmp_path):
    reference = tmp_path / "reference"
    done = finish("train", "--data", str(tiny_names_file), *TRANSFORMER, "--out", str(reference))
    assert done.returncode == 0, done.stderr
    run = tmp_path / "killed"
    kill_9_at_random_then_resume(run, "--data", str(tiny_names_file), *TRANSFORMER, delay=0.02)
    assert_same_run(run, reference)


def test_progress_is_reported_through_the_callback_the_caller_supplies():
    calls = []
    examples = flat_examples()
    train(
        Flat(),
        examples,
        examples,
        TrainConfig(steps=250, eval_every=100, batch_size=8),
        Callbacks(on_progress=lambda step, steps, record: calls.append((step, steps, record is not None))),
    )
    assert calls == [
        (100, 250, False),
        (100, 250, True),
        (200, 250, False),
        (200, 250, True),
        (250, 250, True),
    ]
