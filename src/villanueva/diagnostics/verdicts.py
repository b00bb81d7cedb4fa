"""Verdicts: what looks unhealthy, in words, from the numbers of a diagnosis.

The rules (docs/diagnostics.md says where each threshold comes from):
- initial loss: overconfident when the untrained model scores more than 1.25 x ln(vocab size),
  the loss of a uniform guess.
- saturation: a layer with more than 5% of its outputs saturated at init (the notebooks' rule of
  thumb for a good initialisation), or more than half of them at the end of training.
- dead neurons: a layer with 5% or more of its neurons saturated for every example of the batch.
- gradients: the gradient at the layer outputs, max std / min std over the layers, above 10x (it
  explodes or vanishes on its way through the network).
- update:data ratios: the median log10(std(update) / std(weights)) of a weight matrix over the
  run outside [-4, -1.5], around the rule of thumb of -3.
"""

import math
import statistics
from dataclasses import dataclass

from villanueva.diagnostics.snapshot import SATURATED, LayerStats, Snapshot

OVERCONFIDENT = 1.25  # x ln(vocab size)
SATURATED_AT_INIT = 0.05  # fraction of a layer's outputs
SATURATED_AT_END = 0.5
DEAD = 0.05  # fraction of a layer's neurons
GRADIENT_SPREAD = 10.0  # max / min gradient std over the layers
UPDATE_RATIO_BAND = (-4.0, -1.5)  # median log10 update:data ratio


@dataclass
class Verdict:
    topic: str
    healthy: bool | None  # None: nothing to judge, only a note
    text: str


def judge(
    initial_loss: float,
    vocab_size: int,
    at_init: Snapshot,
    at_end: Snapshot,
    update_ratios: dict[str, list] | None,
) -> list[Verdict]:
    verdicts = [initial_loss_verdict(initial_loss, vocab_size)]
    if not at_init.layers:
        verdicts.append(
            Verdict(
                "layers",
                None,
                "no nonlinearity layers (tanh, ReLU, GELU, ...) to "
                "look inside; activation, saturation and gradient plots skipped",
            )
        )
    else:
        verdicts += [
            saturation_verdict(at_init, at_end),
            dead_neurons_verdict(at_init, at_end),
            gradients_verdict(at_init, at_end),
        ]
    verdicts.append(update_ratios_verdict(update_ratios))
    return [verdict for verdict in verdicts if verdict is not None]


def initial_loss_verdict(loss: float, vocab_size: int) -> Verdict:
    uniform = math.log(vocab_size)
    if loss > OVERCONFIDENT * uniform:
        return Verdict(
            "initial loss",
            False,
            f"overconfident at init: {loss:.2f} vs {uniform:.2f} "
            f"expected (ln {vocab_size}, a uniform guess); the untrained model is sure of "
            "wrong answers: shrink the initial weights, the output layer's above all",
        )
    return Verdict(
        "initial loss",
        True,
        f"{loss:.2f} at init, close to the {uniform:.2f} of a uniform guess (ln {vocab_size})",
    )


def _moments(at_init: Snapshot, at_end: Snapshot) -> tuple[tuple[str, Snapshot], ...]:
    return ("at init", at_init), ("at the end", at_end)


def _saturating(snapshot: Snapshot) -> list[LayerStats]:
    """The layers whose nonlinearity has flat regions (tanh, sigmoid, ReLU; not GELU)."""
    return [layer for layer in snapshot.layers if layer.saturated is not None]


def saturation_verdict(at_init: Snapshot, at_end: Snapshot) -> Verdict | None:
    if not _saturating(at_init):
        return None
    kinds = "/".join(sorted({layer.kind for layer in _saturating(at_init)}))
    problems = []
    limits = (SATURATED_AT_INIT, SATURATED_AT_END)
    for (moment, snapshot), limit in zip(_moments(at_init, at_end), limits):
        over = [layer.saturated for layer in _saturating(snapshot) if layer.saturated > limit]
        if over:
            problems.append(
                f"{len(over)} of {len(_saturating(snapshot))} over {limit:.0%} {moment} "
                f"(up to {max(over):.0%})"
            )
    if problems:
        return Verdict(
            "saturation",
            False,
            f"saturated {kinds} layers: {'; '.join(problems)}. "
            "Saturated units pass almost no gradient: scale the initial weights "
            "(Kaiming) or normalise before the nonlinearity (BatchNorm)",
        )
    most = [
        max(layer.saturated for layer in _saturating(snapshot)) for _, snapshot in _moments(at_init, at_end)
    ]
    return Verdict(
        "saturation",
        True,
        f"{kinds} outputs saturated: at most {most[0]:.1%} at init, "
        f"{most[1]:.1%} at the end (|t| > {SATURATED} for tanh)",
    )


def dead_neurons_verdict(at_init: Snapshot, at_end: Snapshot) -> Verdict | None:
    if not _saturating(at_init):
        return None
    dying = [
        f"{layer.name} {layer.dead} of {layer.neurons} {moment}"
        for moment, snapshot in _moments(at_init, at_end)
        for layer in _saturating(snapshot)
        if layer.dead >= DEAD * layer.neurons
    ]
    if dying:
        return Verdict(
            "dead neurons",
            False,
            f"neurons saturated for every example, which never learn: {'; '.join(dying)}",
        )
    counts = [
        f"{sum(layer.dead for layer in _saturating(snapshot))} {moment}"
        for moment, snapshot in _moments(at_init, at_end)
    ]
    return Verdict("dead neurons", True, f"{', '.join(counts)} (saturated for every example of the batch)")


def gradients_verdict(at_init: Snapshot, at_end: Snapshot) -> Verdict | None:
    findings = [_gradient_spread(snapshot, moment) for moment, snapshot in _moments(at_init, at_end)]
    if None in findings:
        return None  # fewer than two layers: no spread to speak of
    texts = [text for _, text in findings]
    if all(healthy for healthy, _ in findings):
        return Verdict(
            "gradients",
            True,
            f"gradients at the layer outputs stay even across the "
            f"{len(at_init.layers)} layers: {', '.join(texts)}",
        )
    return Verdict(
        "gradients",
        False,
        f"gradients at the layer outputs differ across depth: "
        f"{'; '.join(texts)}. Layers then learn at very different speeds",
    )


def _gradient_spread(snapshot: Snapshot, moment: str) -> tuple[bool, str] | None:
    """(healthy, words) about max / min of the gradient std over the layers."""
    layers = [layer for layer in snapshot.layers if layer.grad_std is not None]
    if len(layers) < 2:
        return None
    stds = [layer.grad_std for layer in layers]
    smallest, largest = layers[stds.index(min(stds))], layers[stds.index(max(stds))]
    if smallest.grad_std == 0:
        return False, f"no gradient reaches {smallest.name} {moment}"
    spread = largest.grad_std / smallest.grad_std
    if spread <= GRADIENT_SPREAD:
        return True, f"within {spread:.1f}x {moment}"
    nearer_the_input = layers.index(largest) < layers.index(smallest)  # layers run input to output
    direction = "exploding" if nearer_the_input else "vanishing"
    return False, (
        f"{spread:.0f}x apart {moment} ({direction} toward the input: std "
        f"{largest.grad_std:.1e} at {largest.name}, {smallest.grad_std:.1e} at "
        f"{smallest.name})"
    )


def update_ratios_verdict(ratios: dict[str, list] | None) -> Verdict:
    if ratios is None:
        return Verdict(
            "update ratios",
            None,
            "not recorded: train with `diagnose` to record the "
            "update:data ratio of every weight matrix during training",
        )
    medians = {
        name: statistics.median(values) for name, values in ratios.items() if name != "step" and values
    }
    if not medians:
        return Verdict("update ratios", None, "no weight matrices to measure")
    low, high = UPDATE_RATIO_BAND
    too_large = [f"{name} {value:.1f}" for name, value in medians.items() if value > high]
    too_small = [f"{name} {value:.1f}" for name, value in medians.items() if value < low]
    problems = (
        [f"too large ({', '.join(too_large)}): steps thrash the weights, lower `lr`"] if too_large else []
    )
    problems += [f"too small ({', '.join(too_small)}): learning crawls, raise `lr`"] if too_small else []
    if problems:
        return Verdict("update ratios", False, f"median log10 update:data {'; '.join(problems)}")
    return Verdict(
        "update ratios",
        True,
        f"median log10 update:data ratio "
        f"{min(medians.values()):.2f} to {max(medians.values()):.2f} over {len(medians)} "
        f"weight matrices, near the -3 rule of thumb (band {low:g} to {high:g})",
    )
