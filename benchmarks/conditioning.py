"""What conditioning on the province buys, on the embedded municipalities (seed-compatible split):

    python benchmarks/conditioning.py [--preset regions] [--steps N] [--out DIR] [--threads 2]

1. Loss: the same model and recipe trained twice, conditioned on the province and not; the
   conditioned model's loss given the true province, and with the province summed out (marginal).
   A class-conditional character n-gram and its unconditioned twin, for reference.
2. Guessing: top-1 (and top-3) accuracy of `guess` on the test names, for the 52 provinces and,
   summed, the 19 communities, with its expected calibration error; beside the majority class and
   a class-conditional n-gram classifier (Bayes, same prior; its order and smoothing chosen on the
   validation names).
3. Style strength: for each strength, the guided model's loss on the validation names given their
   province, the share of sampled names that are new, and style fidelity: 200 names sampled for
   each province, classified by the n-gram classifier (trained on the training names only, no part
   of the generator); the share classified as their own province, beside the share of the real
   test names; overall and per community. The share of Basque letter patterns in the names of
   Bizkaia, Gipuzkoa, Álava and Navarra, sampled and real.
4. Samples: 10 new names for each of a few provinces, spelled as places are written.

With the defaults the conditioned run is the bundled model's recipe, so it also checks that
rebuilding the bundled model gives the same weights.
"""

import argparse
import math
import re
import time
from pathlib import Path

import numpy as np
import safetensors.torch
import torch

from ngram import best_classifier
from villanueva.bundled import BUILD_COMMAND, BUNDLED_RUN
from villanueva.data import DataOptions, load_corpus
from villanueva.data.spelling import as_written
from villanueva.experiment import train_run
from villanueva.inference import Constraints, Drawing, sample
from villanueva.inference.guess import label_posteriors
from villanueva.runs import load_run, read_result
from villanueva.training import resolve

from common import machine_line

PROVINCES_SHOWN = ("Girona", "Bizkaia", "A Coruña", "Sevilla", "Madrid")
BASQUE_PROVINCES = ("Bizkaia", "Gipuzkoa", "Álava", "Navarra")
BASQUE = re.compile(r"tx|tz|k|eta$|aga$|oa$")  # the count of Basque letter patterns
STRENGTHS = (0.0, 1.0, 2.0, 3.0)
PER_PROVINCE = 200


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--preset", default="regions", help="the recipe of both runs (default regions)")
    options.add_argument("--steps", type=int, help="training steps (default: the preset's)")
    options.add_argument(
        "--out", type=Path, default=Path("runs") / f"conditioning-{time.strftime('%Y%m%d-%H%M%S')}"
    )
    options.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    args = options.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(machine_line(torch.device("cpu")))

    runs = {}
    for name, label in (("conditioned", "province"), ("unconditioned", None)):
        settings = resolve(
            preset_name=args.preset, train_options={"steps": args.steps}, conditioned=label is not None
        )
        trained = train_run(args.out / name, settings, DataOptions(condition=label, keep_accents=True))
        print(f"{name}: trained in {trained.result.seconds:.0f} s ({trained.result.parameters:,} parameters)")
        runs[name] = load_run(args.out / name)

    run = runs["conditioned"]
    losses(runs)
    classifiers = ngram_classifiers(run)
    guessing(run, classifiers)
    style(run, classifiers["province"])
    samples(run)
    same_as_bundled(args.out / "conditioned")


def losses(runs) -> None:
    result = {name: read_result(run.path) for name, run in runs.items()}
    print("\n## Loss (nats per character; val / test)")
    print("| model | val | test |\n|---|---:|---:|")
    for title, losses_of in (
        ("unconditioned", result["unconditioned"].best),
        ("province-conditioned, province given", result["conditioned"].best),
        ("province-conditioned, province summed out", result["conditioned"].marginal),
    ):
        print(f"| {title} | {losses_of['val']:.4f} | {losses_of['test']:.4f} |")
    gain = result["unconditioned"].best["val"] - result["conditioned"].best["val"]
    print(f"conditional gain on val: {gain:.4f} nats")
    print(ngram_losses(runs["conditioned"].split))


def ngram_losses(split) -> str:
    """The class-conditional n-gram's val loss against its unconditioned twin, each with the order
    and smoothing that suit it best on val."""
    from ngram import ClassNGram

    one_class = {part: ["all"] * len(names) for part, names in split.parts().items()}
    scores = {}
    for kind, labels in (("conditioned", split.labels), ("unconditioned", one_class)):
        scores[kind] = min(
            (
                ClassNGram(split.train, labels["train"], order, beta, gamma).loss(split.val, labels["val"]),
                order,
            )
            for order in (3, 4)
            for beta in (4.0, 16.0)
            for gamma in (2.0, 8.0)
        )
    (conditioned, order), (plain, plain_order) = scores["conditioned"], scores["unconditioned"]
    return (
        f"class-conditional n-gram (order {order}): val {conditioned:.4f}; "
        f"unconditioned (order {plain_order}): {plain:.4f}; gain {plain - conditioned:.4f} nats"
    )


def ngram_classifiers(run) -> dict:
    """The n-gram classifiers of the province and of the community, chosen on val."""
    split, group_of = run.split, community_of(run)
    communities = {part: [group_of[p] for p in labels] for part, labels in split.labels.items()}
    return {
        "province": best_classifier((split.train, split.labels["train"]), (split.val, split.labels["val"])),
        "community": best_classifier((split.train, communities["train"]), (split.val, communities["val"])),
    }


def community_of(run) -> dict[str, str]:
    return {member: group for group, members in run.labels.groups.items() for member in members}


def guessing(run, classifiers) -> None:
    split, labels = run.split, run.labels
    groups = list(labels.groups)
    group_of = community_of(run)
    truth = {
        "province": np.array(labels.ids(split.labels["test"])),
        "community": np.array([groups.index(group_of[p]) for p in split.labels["test"]]),
    }
    posteriors = label_posteriors(run.model, run.vocab, labels, split.test)
    member_of = np.zeros((len(labels), len(groups)))
    for column, members in enumerate(labels.groups.values()):
        member_of[labels.ids(members), column] = 1
    guessed = {"province": posteriors, "community": posteriors @ member_of}
    counted = {
        "province": ngram_posteriors(classifiers["province"], split.test, labels.names),
        "community": ngram_posteriors(classifiers["community"], split.test, groups),
    }
    train = split.labels["train"]
    majority = {"province": max(set(train), key=train.count)}
    majority["community"] = max(set(groups), key=[group_of[p] for p in train].count)

    print("\n## Guessing the test names' region (top-1; top-3 in brackets; expected calibration error)")
    print("| classifier | province (52) | community (19) |\n|---|---:|---:|")
    shares = {
        kind: float(np.mean(truth[kind] == names.index(majority[kind])))
        for kind, names in (("province", labels.names), ("community", groups))
    }
    print(
        f"| majority class ({majority['province']} / {majority['community']}) | "
        f"{shares['province']:.1%} | {shares['community']:.1%} |"
    )
    for title, posteriors_of in (
        (f"class-conditional n-gram (order {classifiers['province'].order})", counted),
        ("villanueva guess (province-conditioned model)", guessed),
    ):
        cells = [cell(posteriors_of[kind], truth[kind]) for kind in ("province", "community")]
        print(f"| {title} | {cells[0]} | {cells[1]} |")


def cell(posteriors: np.ndarray, truth: np.ndarray) -> str:
    top = f"{top_k(posteriors, truth, 1):.1%} ({top_k(posteriors, truth, 3):.1%})"
    return f"{top}; ECE {calibration_error(posteriors, truth):.3f}"


def ngram_posteriors(classifier, names: list[str], classes: list[str]) -> np.ndarray:
    joint = np.array(
        [
            [classifier.log_prior[c] + likelihoods[c] for c in classes]
            for likelihoods in map(classifier.log_likelihoods, names)
        ]
    )
    joint -= joint.max(axis=1, keepdims=True)
    return np.exp(joint) / np.exp(joint).sum(axis=1, keepdims=True)


def top_k(posteriors: np.ndarray, truth: np.ndarray, k: int) -> float:
    best = np.argsort(-posteriors, axis=1, kind="stable")[:, :k]
    return float((best == truth[:, None]).any(axis=1).mean())


def calibration_error(posteriors: np.ndarray, truth: np.ndarray, bins: int = 10) -> float:
    """How far the top guess's probability is from how often it is right, over ten bins of it."""
    confidence, right = posteriors.max(axis=1), posteriors.argmax(axis=1) == truth
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    return float(
        sum(
            abs(confidence[which == b].mean() - right[which == b].mean()) * np.mean(which == b)
            for b in range(bins)
            if np.any(which == b)
        )
    )


def sampled(run, province: str, count: int, strength: float, seed: int = 1) -> list[str]:
    batches = sample(
        run.model,
        run.vocab,
        count,
        Constraints(),
        Drawing(style_strength=strength),
        seed=seed,
        label_weights=run.labels.weights(province),
    )
    return [name.name for batch in batches for name in batch]


def style(run, classifier) -> None:
    split, provinces = run.split, run.labels.names
    known = set(load_corpus(keep_accents=True).names)
    names = {s: {p: sampled(run, p, PER_PROVINCE, s) for p in provinces} for s in STRENGTHS}
    own = {s: {p: share(classifier.guess(n) == p for n in names[s][p]) for p in provinces} for s in STRENGTHS}
    real = {p: [n for n, label in zip(split.test, split.labels["test"]) if label == p] for p in provinces}
    real_own = {p: share(classifier.guess(n) == p for n in real[p]) for p in provinces}

    print(f"\n## Style strength ({PER_PROVINCE} names sampled per province, seed 1)")
    print("| strength | val loss, province given | new names | classified as their own province |")
    print("|---:|---:|---:|---:|")
    for s in STRENGTHS:
        every = [n for p in provinces for n in names[s][p]]
        print(
            f"| {s:g} | {guided_loss(run, split.val, split.labels['val'], s):.4f} | "
            f"{share(n not in known for n in every):.1%} | {np.mean(list(own[s].values())):.1%} |"
        )
    print(
        f"| real test names | | | {share(classifier.guess(n) == p for p in provinces for n in real[p]):.1%} |"
    )

    print(
        "\n### Classified as their own province, by community (samples at strength 1 and 2; real test names)"
    )
    print("| community | strength 1 | strength 2 | real |\n|---|---:|---:|---:|")
    for group, members in run.labels.groups.items():
        cells = [np.mean([own[s][p] for p in members]) for s in (1.0, 2.0)]
        weights = [len(real[p]) for p in members]
        real_share = np.average([real_own[p] for p in members], weights=weights) if sum(weights) else math.nan
        print(f"| {group} | {cells[0]:.1%} | {cells[1]:.1%} | {real_share:.1%} |")

    print("\n### Basque letter patterns (tx, tz, k, -eta, -aga, -oa): share of names with one")
    print("| province | strength 1 | strength 2 | strength 3 | real names (all) |\n|---|---:|---:|---:|---:|")
    every_real = {
        p: [
            n
            for n, label in zip(
                split.train + split.val + split.test,
                split.labels["train"] + split.labels["val"] + split.labels["test"],
            )
            if label == p
        ]
        for p in BASQUE_PROVINCES
    }
    for p in BASQUE_PROVINCES:
        cells = [share(bool(BASQUE.search(n)) for n in names[s][p]) for s in (1.0, 2.0, 3.0)]
        print(
            f"| {p} | {cells[0]:.0%} | {cells[1]:.0%} | {cells[2]:.0%} | "
            f"{share(bool(BASQUE.search(n)) for n in every_real[p]):.0%} |"
        )


def guided_loss(run, names: list[str], labels: list[str], strength: float) -> float:
    """Cross-entropy of `names` under the guided model, each given its label: what the strength
    does to how well the model fits real names of the region."""
    model, label_ids = run.model, run.labels.ids(labels)
    inputs, targets = model.examples(names, run.vocab, label_ids)
    with torch.no_grad():
        labelled = model(inputs)
        plain = model(torch.cat([torch.full_like(inputs[:, :1], len(run.labels)), inputs[:, 1:]], dim=1))
        logits = plain + strength * (labelled - plain)
        return float(
            torch.nn.functional.cross_entropy(
                logits.transpose(1, 2), targets.long(), ignore_index=-1, reduction="mean"
            )
        )


def share(hits) -> float:
    hits = list(hits)
    return sum(hits) / len(hits) if hits else math.nan


def samples(run) -> None:
    known = set(load_corpus(keep_accents=True).names)
    for strength in (1.0, 2.0):
        print(
            f"\n## New names by province, style strength {strength:g} (seed 1; none is in the embedded list)"
        )
        for province in PROVINCES_SHOWN:
            batches = sample(
                run.model,
                run.vocab,
                10,
                Constraints(new_only=True),
                Drawing(style_strength=strength),
                seed=1,
                label_weights=run.labels.weights(province),
                known=known,
            )
            names = [as_written(name.name) for batch in batches for name in batch]
            print(f"- **{province}**: {', '.join(names)}")


def same_as_bundled(path: Path) -> None:
    if not (BUNDLED_RUN / "model.safetensors").is_file():
        print(f"\nno bundled model at {BUNDLED_RUN} to compare with")
        return
    fresh = safetensors.torch.load_file(str(path / "model.safetensors"))
    bundled = safetensors.torch.load_file(str(BUNDLED_RUN / "model.safetensors"))
    same = fresh.keys() == bundled.keys() and all(torch.equal(fresh[k], bundled[k]) for k in fresh)
    print(f"\nweights equal to the bundled model's ({BUILD_COMMAND}): {same}")


if __name__ == "__main__":
    main()
