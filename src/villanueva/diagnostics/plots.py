"""The diagnostic plots, drawn with matplotlib's object API (no pyplot global state, no display):
each function returns a Figure; `png_bytes` renders one, for an atomic write."""

import math
import textwrap
from io import BytesIO

from matplotlib.figure import Figure
from matplotlib.ticker import FormatStrFormatter

from villanueva.diagnostics.embeddings import Embedding2D
from villanueva.diagnostics.snapshot import SATURATION_MAP, Histogram, Snapshot

MOMENTS = ("at init", "at the end of training")
MAX_MAP_LAYERS = 6  # saturation maps side by side; deeper models show an evenly spaced selection


def png_bytes(figure: Figure) -> bytes:
    buffer = BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def _density(histogram: Histogram) -> tuple[list[float], list[float]]:
    """Bin centres and the density there (area 1), so layers with different ranges compare."""
    edges, counts = histogram.edges, histogram.counts
    width, total = edges[1] - edges[0], max(1, sum(counts))
    return ([(a + b) / 2 for a, b in zip(edges, edges[1:])], [c / (total * width) for c in counts])


def _overlay(
    axes, curves: list[tuple[Histogram, str]], title: str, xlabel: str, log_density: bool = False
) -> None:
    for histogram, label in curves:
        axes.plot(*_density(histogram), label=label)
    if log_density:  # distributions 100x apart in width stay visible side by side
        axes.set_yscale("log")
    axes.set_title(title)
    axes.set_xlabel(xlabel)
    axes.set_ylabel("density" + (" (log scale)" if log_density else ""))
    axes.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))  # beside, not over
    axes.grid(alpha=0.3)


def activations(snapshots: tuple[Snapshot, Snapshot]) -> Figure:
    figure = Figure(figsize=(14, 9), layout="constrained")
    figure.suptitle("Activation distribution of each nonlinearity layer")
    for axes, moment, snapshot in zip(figure.subplots(2, 1), MOMENTS, snapshots):
        curves = [
            (
                layer.histogram,
                f"{layer.name} ({layer.kind}): mean {layer.mean:+.2f}, std "
                f"{layer.std:.2f}"
                + ("" if layer.saturated is None else f", saturated {layer.saturated:.1%}"),
            )
            for layer in snapshot.layers
        ]
        _overlay(axes, curves, moment, "output value")
    return figure


def _gradients(
    title: str,
    xlabel: str,
    curves: list[list[tuple[Histogram, str]]],
    names: list[str],
    sizes: list[list[float | None]],
    size_label: str,
) -> Figure:
    """Histogram overlays at init and at the end, above one number per layer from the first layer
    to the last on a log scale: how the gradient's size changes with depth."""
    figure = Figure(figsize=(14, 13), layout="constrained")
    figure.suptitle(title)
    panels = figure.subplot_mosaic([["init"], ["end"], ["depth"]], height_ratios=[3, 3, 2.5])
    for key, moment, moment_curves in zip(("init", "end"), MOMENTS, curves):
        _overlay(panels[key], moment_curves, moment, xlabel, log_density=True)
    depth = panels["depth"]
    for moment, values in zip(MOMENTS, sizes):
        depth.plot(range(len(names)), [math.nan if v is None else v for v in values], "o-", label=moment)
    depth.set_xticks(
        range(len(names)),
        names,
        rotation=20 if len(names) > 5 else 0,
        ha="right" if len(names) > 5 else "center",
    )
    depth.set_yscale("log")
    depth.set_title(f"{size_label}, from the first layer to the last")
    depth.set_ylabel(f"{size_label.split(',')[0]} (log scale)")
    depth.legend()
    depth.grid(alpha=0.3, which="both")
    return figure


def activation_gradients(snapshots: tuple[Snapshot, Snapshot]) -> Figure:
    layers = [
        [layer for layer in snapshot.layers if layer.grad_histogram is not None] for snapshot in snapshots
    ]
    curves = [
        [
            (
                layer.grad_histogram,
                f"{layer.name} ({layer.kind}): mean {layer.grad_mean:+.1e}, std {layer.grad_std:.1e}",
            )
            for layer in moment
        ]
        for moment in layers
    ]
    return _gradients(
        "Gradient of the loss at the output of each nonlinearity layer",
        "d loss / d output",
        curves,
        [layer.name for layer in layers[0]],
        [[layer.grad_std for layer in moment] for moment in layers],
        "std of the gradient",
    )


def weight_gradients(snapshots: tuple[Snapshot, Snapshot]) -> Figure:
    weights = [
        [weight for weight in snapshot.weights if weight.grad_histogram is not None] for snapshot in snapshots
    ]
    curves = [
        [
            (
                weight.grad_histogram,
                f"{weight.name} {tuple(weight.shape)}: std "
                f"{weight.grad_std:.1e}, grad:data {_scientific(weight.grad_data_ratio)}",
            )
            for weight in moment
        ]
        for moment in weights
    ]
    return _gradients(
        "Gradient of each weight matrix",
        "d loss / d weight",
        curves,
        [weight.name for weight in weights[0]],
        [[weight.grad_data_ratio for weight in moment] for moment in weights],
        "grad:data ratio, std(grad) / std(weights)",
    )


def _scientific(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1e}"


def saturation_maps(snapshots: tuple[Snapshot, Snapshot]) -> Figure:
    """Examples x neurons, white where |t| > 0.99, for each layer (columns) at init and at the end
    (rows). A white column is a dead neuron: saturated for every example."""
    mapped = [i for i, layer in enumerate(snapshots[0].layers) if layer.saturation_map is not None]
    if len(mapped) > MAX_MAP_LAYERS:
        step = (len(mapped) - 1) / (MAX_MAP_LAYERS - 1)
        mapped = [mapped[round(i * step)] for i in range(MAX_MAP_LAYERS)]
    width = 3.2 * len(mapped) + 1
    figure = Figure(figsize=(width, 7.5), layout="constrained")
    # Wrapped to the figure's width (about 9 characters an inch at the title's size): a map or two
    # make a figure narrower than the title's one line, and constrained layout does not wrap it.
    title = (
        f"Saturation map: white where the output is in a flat region "
        f"(|t| > {SATURATION_MAP} for tanh); a white column is a dead neuron"
    )
    figure.suptitle(textwrap.fill(title, int(width * 9)))
    grid = figure.subplots(2, len(mapped), squeeze=False)
    for row, moment, snapshot in zip(grid, MOMENTS, snapshots):
        for axes, index in zip(row, mapped):
            layer = snapshot.layers[index]
            axes.imshow(
                layer.saturation_map.numpy(),
                cmap="gray",
                vmin=0,
                vmax=1,
                interpolation="nearest",
                aspect="auto",
            )
            white = layer.saturation_map.float().mean().item()
            axes.set_title(
                f"{layer.name} {moment}\n{white:.0%} white, {layer.dead} dead of {layer.neurons}",
                fontsize="medium",
            )
            axes.set_xlabel("neuron")
            axes.set_ylabel("example")
    return figure


def update_ratios(ratios: dict[str, list], band: tuple[float, float]) -> Figure:
    figure = Figure(figsize=(12, 5), layout="constrained")
    axes = figure.subplots()
    for name, values in ratios.items():
        if name != "step":
            axes.plot(ratios["step"], values, label=name)
    axes.axhline(-3, color="black", linestyle="--", label="-3 (rule of thumb)")
    axes.axhspan(*band, color="green", alpha=0.08, label=f"healthy band ({band[0]:g} to {band[1]:g})")
    axes.set_title("Update:data ratio of each weight matrix during training")
    axes.set_xlabel("step")
    axes.set_ylabel("log10( std(update) / std(weights) )")
    axes.legend(fontsize="small", loc="upper right")
    axes.grid(alpha=0.3)
    return figure


def loss_curve(curve: dict[str, list[list]], initial_loss: float, vocab_size: int) -> Figure:
    figure = Figure(figsize=(12, 5), layout="constrained")
    axes = figure.subplots()
    train, val = curve["train"], curve["val"]
    chunk = train[0][0] if train else 0
    axes.plot(*zip(*train), label=f"train (mean per {chunk:,} steps)")
    axes.plot(*zip(*val), "o-", label="validation")
    axes.plot([0], [initial_loss], "rx", markersize=10, label=f"untrained model: {initial_loss:.2f}")
    uniform = math.log(vocab_size)
    axes.axhline(
        uniform, color="gray", linestyle="--", label=f"uniform guess: ln {vocab_size} = {uniform:.2f}"
    )
    axes.set_yscale("log")  # an untrained loss of 30 and a trained one of 1.8 both stay readable
    for axis_ticks in (axes.yaxis.set_major_formatter, axes.yaxis.set_minor_formatter):
        axis_ticks(FormatStrFormatter("%g"))
    axes.set_title("Loss during training")
    axes.set_xlabel("step")
    axes.set_ylabel("loss (mean NLL per character, log scale)")
    axes.legend()
    axes.grid(alpha=0.3, which="both")
    return figure


def embeddings(embedding: Embedding2D) -> Figure:
    figure = Figure(figsize=(8, 8), layout="constrained")
    axes = figure.subplots()
    xs, ys = zip(*embedding.points)
    axes.scatter(xs, ys, s=400, color="tab:blue", alpha=0.3)
    for char, x, y in zip(embedding.chars, xs, ys):
        axes.annotate("␣" if char == " " else char, (x, y), ha="center", va="center", fontsize=12)
    axes.set_title(f"Character embeddings ({embedding.method})")
    axis = "principal component" if embedding.method.startswith("PCA") else "dimension"
    axes.set_xlabel(f"{axis} 1")
    axes.set_ylabel(f"{axis} 2")
    axes.grid(alpha=0.3)
    return figure
