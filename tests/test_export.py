"""Runs exported to ONNX: for every model and both kinds of conditioning, ONNX Runtime's decoding
step gives torch's logits within 1e-5, names score the same through either (and as the training
loss scores them), and the one sampler draws the same names through either;
training writes the export, `villanueva export` writes one for an older run, and a run
without its torch model samples through its export."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from villanueva import machine
from villanueva.data import Vocab
from villanueva.inference import Constraints, Drawing, sample
from villanueva.inference.export import export_model
from villanueva.inference.graphs import ROWS_PER_SHARD, onnx_steps, run_steps, torch_steps
from villanueva.inference.score import log_likelihoods
from villanueva.inference.steps import ReadingSteps, WindowSteps
from villanueva.models import MODELS, build_model, make_config
from villanueva.models.loss import batch_loss
from villanueva.runs import load_run
from villanueva.runs.run import EXPORT

NAMES = ["villanueva de la serena", "alcala", "toro", "la rioja", "o", "valdepenas de jaen"]
VOCAB = Vocab.from_names(NAMES)
SMALL = {  # every model, small enough to export and run in a blink
    "bigram": {},
    "mlp": dict(emb_dim=4, hidden=16),
    "mlp-bn": dict(emb_dim=4, hidden=16),
    "deep-mlp": dict(emb_dim=4, hidden=16),
    "wavenet": dict(emb_dim=4, hidden=16),
    "gru": dict(emb_dim=8, hidden=16, layers=2),
    "transformer": dict(emb_dim=16, heads=2, blocks=2, max_length=30),
}
CASES = [(name, 0) for name in MODELS] + [
    (name, 3) for name, spec in MODELS.items() if spec.module.can_condition
]


def exported(name: str, label_count: int, tmp_path):
    torch.manual_seed(0)
    model = randomised_style(build_model(name, labelled_config(name, label_count), len(VOCAB), label_count))
    model.eval()
    if not model.learns_by_gradient():  # a count table: give it counts, not the uniform start
        model.fit(*model.examples(NAMES, VOCAB))
    export_model(model, tmp_path / "model.onnx")
    return model, onnx_steps(tmp_path / "model.onnx")


def labelled_config(name: str, label_count: int):
    """A conditioned model with every way of reading its label, its style table made non-zero."""
    options = dict(label_dropout=0.3, style_table=True) if label_count else {}
    return make_config(name, **SMALL[name], **options)


def randomised_style(model):
    if getattr(model, "style", None) is not None:
        torch.nn.init.normal_(model.style.weight)
    return model


def test_every_model_has_a_case():
    assert {name for name, _ in CASES} == set(SMALL) == set(MODELS)


@pytest.mark.parametrize(("name", "label_count"), CASES)
def test_the_onnx_step_gives_torchs_logits(name, label_count, tmp_path):
    model, ours = exported(name, label_count, tmp_path)
    theirs = torch_steps(model)
    assert type(ours) is type(theirs) and isinstance(ours, (WindowSteps, ReadingSteps))
    generator = np.random.default_rng(1)
    count, prefix = 40, VOCAB.encode("la ")
    labels = generator.integers(0, label_count, count) if label_count else None
    states = [steps.start(count, prefix, labels) for steps in (ours, theirs)]
    for step in range(15):  # past the prefix, with names leaving the batch as they end
        onnx_logits, torch_logits = (steps.logits(state) for steps, state in zip((ours, theirs), states))
        assert onnx_logits.shape == (len(onnx_logits), len(VOCAB))
        assert np.abs(onnx_logits - torch_logits).max() < 1e-5, step
        next_ids = generator.integers(1, len(VOCAB), len(onnx_logits))
        keep = generator.random(len(onnx_logits)) > 0.1
        states = [steps.extend(state, next_ids, keep) for steps, state in zip((ours, theirs), states)]


@pytest.mark.parametrize(("name", "label_count"), [("gru", 3), ("transformer", 0)])
def test_a_reading_graph_cut_into_shards_gives_the_logits_of_one_pass(
    name, label_count, tmp_path, monkeypatch
):
    model, _ = exported(name, label_count, tmp_path)
    count = 2 * ROWS_PER_SHARD + 7  # enough names for 2 shards, of unequal sizes
    labels = np.arange(count) % label_count if label_count else None
    prefix = VOCAB.encode("la ")
    monkeypatch.setattr(machine, "_threads", 1)
    whole = onnx_steps(tmp_path / "model.onnx")
    monkeypatch.setattr(machine, "_threads", 2)
    sharded = onnx_steps(tmp_path / "model.onnx")
    states = [steps.start(count, prefix, labels) for steps in (whole, sharded)]
    ones = np.ones(count, dtype=bool)
    for _ in range(3):
        expected, got = (steps.logits(state) for steps, state in zip((whole, sharded), states))
        assert np.abs(expected - got).max() < 1e-5
        next_ids = np.arange(count) % (len(VOCAB) - 1) + 1
        states = [steps.extend(state, next_ids, ones) for steps, state in zip((whole, sharded), states)]


@pytest.mark.parametrize(("name", "label_count"), CASES)
def test_names_score_the_same_through_either_and_as_in_training(name, label_count, tmp_path):
    model, ours = exported(name, label_count, tmp_path)
    labels = [i % label_count for i in range(len(NAMES))] if label_count else None
    onnx_totals, torch_totals = (log_likelihoods(m, VOCAB, NAMES, labels) for m in (ours, model))
    assert np.allclose(onnx_totals, torch_totals, rtol=0, atol=1e-4)
    # The training loss of the same names: the sum of their characters' log-probabilities.
    inputs, targets = model.examples(NAMES, VOCAB, labels)
    with torch.no_grad():
        expected = -batch_loss(model(inputs), targets, reduction="none").double().sum()
    assert float(onnx_totals.sum()) == pytest.approx(float(expected), rel=1e-5)


@pytest.mark.parametrize(("name", "label_count"), CASES)
def test_the_sampler_draws_the_same_names_through_either(name, label_count, tmp_path):
    model, ours = exported(name, label_count, tmp_path)
    weights = np.full(label_count, 1 / label_count) if label_count else None
    constraints = Constraints(starts_with="va", max_length=25)
    drawn = [
        [
            s.name
            for batch in sample(
                steps, VOCAB, 2000, constraints, Drawing(top_p=0.95), seed=3, label_weights=weights
            )
            for s in batch
        ]
        for steps in (ours, torch_steps(model))
    ]
    # The same seed draws the same uniform numbers; logits 1e-6 apart can only change a draw that
    # falls within 1e-6 of a boundary between two characters.
    same = sum(a == b for a, b in zip(*drawn))
    assert len(drawn[0]) == len(drawn[1]) > 1000 and same >= 0.99 * len(drawn[0]), same


def test_training_writes_the_export_and_a_run_without_its_torch_model_goes_through_it(tiny_run, tmp_path):
    run = load_run(tiny_run)
    assert (tiny_run / EXPORT).is_file()
    assert run_steps(run).graph.__qualname__.startswith("_torch_run")  # the faster, where loaded
    assert run_steps(replace(run, model=None)).graph.__qualname__.startswith("onnx_steps")
    copy = tmp_path / "copy.onnx"
    export_model(run.model, copy)  # the same model exports to the same graph
    assert copy.read_bytes() == (tiny_run / EXPORT).read_bytes()


def test_export_writes_a_runs_graph_and_refuses_what_it_cannot(cli, tiny_run, tmp_path):
    out = tmp_path / "elsewhere.onnx"
    result = cli("export", str(tiny_run), "--out", str(out))
    assert result.code == 0 and f"wrote {out}" in result.out and out.stat().st_size > 0
    assert onnx_steps(out).description.vocab_size == len(load_run(tiny_run).vocab)
    for args, message in (
        (["--out", str(tmp_path)], "is a directory"),
        ([], "the bundled model ships with its export"),
        ([str(tmp_path / "nothing")], "run directory not found"),
    ):
        result = cli("export", *args)
        assert result.code == 2 and message in result.err and len(result.err.strip().splitlines()) == 1


def test_a_file_that_is_not_an_export_is_one_line(tmp_path):
    from villanueva.errors import UserError

    (tmp_path / "junk.onnx").write_bytes(b"not a graph")
    with pytest.raises(UserError, match="not a decoding graph"):
        onnx_steps(tmp_path / "junk.onnx")


def test_the_bundled_models_export_is_its_model():
    run = load_run(None)
    ours, theirs = run_steps(replace(run, model=None)), torch_steps(run.model)
    labels = np.arange(40) % len(run.labels)
    prefix = run.vocab.encode("villa")
    assert (
        np.abs(
            ours.logits(ours.start(40, prefix, labels)) - theirs.logits(theirs.start(40, prefix, labels))
        ).max()
        < 1e-5
    )
