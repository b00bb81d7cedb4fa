"""What conditioning on the province buys, on the embedded municipalities (seed-compatible split):

    python benchmarks/conditioning.py [--preset best] [--steps N] [--out DIR] [--threads 2]

1. Loss: the same model and recipe trained twice, conditioned on the province and not; the
   conditioned model's loss given the true province, and with the province summed out (marginal).
   A class-conditional character trigram and its unconditioned twin, for reference.
2. Guessing: top-1 (and top-3) accuracy of `guess` on the test names, for the 52 provinces and,
   summed, the 19 communities; beside the majority class and a class-conditional n-gram classifier
   (Bayes, same prior; its order and smoothing chosen on the validation names).
3. Samples: 10 new names for each of a few provinces.

With the defaults the conditioned run is the bundled model's recipe, so it also checks that
rebuilding the bundled model gives the same weights.
"""

import argparse
import time
from pathlib import Path

import safetensors.torch
import torch

from ngram import ClassNGram, best_classifier
from villanueva.bundled import BUILD_COMMAND, BUNDLED_RUN
from villanueva.data import DataOptions, load_corpus
from villanueva.data.labels import community_of
from villanueva.experiment import train_run
from villanueva.inference import Constraints, sample
from villanueva.inference.guess import label_posteriors
from villanueva.runs import load_run, read_result
from villanueva.training import resolve

from common import machine_line

PROVINCES_SHOWN = ("Girona", "Bizkaia", "A Coruña", "Sevilla", "Madrid")


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--preset", default="best", help="the recipe of both runs (default best)")
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
        trained = train_run(args.out / name, settings, DataOptions(condition=label))
        print(f"{name}: trained in {trained.result.seconds:.0f} s ({trained.result.parameters:,} parameters)")
        runs[name] = load_run(args.out / name)

    losses(runs)
    guessing(runs["conditioned"])
    samples(runs["conditioned"])
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


def guessing(run) -> None:
    split, labels = run.split, run.labels
    test_provinces = split.labels["test"]
    posteriors = label_posteriors(run.model, run.vocab, labels, split.test)
    print("\n## Guessing the test names' region (top-1 accuracy; top-3 in brackets)")
    print("| classifier | province (52) | community (19) |\n|---|---:|---:|")
    test_communities = [community_of(p) for p in test_provinces]
    majority = {
        kind: max(set(train), key=train.count)
        for kind, train in (
            ("province", split.labels["train"]),
            ("community", [community_of(p) for p in split.labels["train"]]),
        )
    }
    print(
        f"| majority class ({majority['province']} / {majority['community']}) | "
        f"{share(p == majority['province'] for p in test_provinces):.1%} | "
        f"{share(c == majority['community'] for c in test_communities):.1%} |"
    )
    ngram_scores = []
    for train_labels, val_labels, test_labels in (
        (split.labels["train"], split.labels["val"], test_provinces),
        (
            *([community_of(p) for p in part] for part in (split.labels["train"], split.labels["val"])),
            test_communities,
        ),
    ):
        classifier = best_classifier((split.train, train_labels), (split.val, val_labels))
        ngram_scores.append((classifier.accuracy(split.test, test_labels), classifier.order, classifier.beta))
    print(
        f"| class-conditional n-gram (province: order {ngram_scores[0][1]}, beta {ngram_scores[0][2]}; "
        f"community: order {ngram_scores[1][1]}, beta {ngram_scores[1][2]}) | "
        f"{ngram_scores[0][0]:.1%} | {ngram_scores[1][0]:.1%} |"
    )
    groups = list(labels.groups)
    member_of = torch.zeros(len(labels), len(groups), dtype=posteriors.dtype)
    for column, members in enumerate(labels.groups.values()):
        member_of[labels.ids(members), column] = 1
    by_community = posteriors @ member_of
    province_truth = torch.tensor(labels.ids(test_provinces))
    community_truth = torch.tensor([groups.index(c) for c in test_communities])
    print(
        f"| villanueva guess (province-conditioned model) | {top_k(posteriors, province_truth, 1):.1%} "
        f"({top_k(posteriors, province_truth, 3):.1%}) | {top_k(by_community, community_truth, 1):.1%} "
        f"({top_k(by_community, community_truth, 3):.1%}) |"
    )


def share(hits) -> float:
    hits = list(hits)
    return sum(hits) / len(hits)


def top_k(posteriors: torch.Tensor, truth: torch.Tensor, k: int) -> float:
    return float((posteriors.topk(k, dim=1).indices == truth[:, None]).any(dim=1).double().mean())


def samples(run) -> None:
    print("\n## New names by province (seed 1; none is in the embedded list)")
    known = set(load_corpus().names)
    for province in PROVINCES_SHOWN:
        weights = run.labels.weights(province)
        batches = sample(
            run.model, run.vocab, 10, Constraints(new_only=True), seed=1, label_weights=weights, known=known
        )
        names = [sampled.name for batch in batches for sampled in batch]
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
