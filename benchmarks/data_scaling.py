"""How training cost grows with the data: one epoch at 1x, 10x and 100x the training names.

    python benchmarks/data_scaling.py [--scales 1,10,100] [--device cuda]

The list is repeated k times. Each scale runs in a fresh process, so its peak memory (RSS) is its
own; the same is measured for the notebook's way of building the data set (Python lists of lists,
then a tensor), for contrast. villanueva keeps the examples as two index tensors (8 bytes per id),
built with a few tensor operations, so time per epoch should grow linearly with the data and memory
only by the tensors' size.
"""

import argparse
import json
import resource
import subprocess
import sys

from villanueva.models import build_model, make_config
from villanueva.training import TrainConfig, train

import notebook
from common import parser, setup, timed
from train_speed import FAST_MODEL

BATCH_SIZE = 1024


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def one_scale(args, scale: int) -> dict:
    """Build the data at `scale` and, for villanueva, time an epoch; runs in its own process."""
    device, split, vocab = setup(args)
    names = split.train * scale
    if args.side == "notebook":
        (X, _), seconds = timed(notebook.build_dataset, names, vocab.index)
        return {"examples": len(X), "build_s": seconds, "rss_mb": peak_rss_mb()}
    model = build_model("mlp-bn", make_config("mlp-bn", **FAST_MODEL), len(vocab)).to(device)
    (inputs, targets), build_s = timed(model.examples, names, vocab)
    train_set = (inputs.to(device), targets.to(device))
    val_set = tuple(t.to(device) for t in model.examples(split.val, vocab))
    # Two epochs, validating after each; the second's time is the one reported (the first pays
    # for warming up the allocator and the math libraries).
    epoch = len(targets) // BATCH_SIZE
    config = TrainConfig(batch_size=BATCH_SIZE, lr=0.015, steps=2 * epoch, eval_every=epoch)
    first, second = train(model, train_set, val_set, config).history
    seconds = second["seconds"] - first["seconds"]
    tensor_mb = (inputs.numel() + targets.numel()) * inputs.element_size() / 2**20
    return {
        "examples": len(targets),
        "build_s": build_s,
        "epoch_s": seconds,
        "tensor_mb": tensor_mb,
        "rss_mb": peak_rss_mb(),
    }


def measure(args, scale: int, side: str) -> dict:
    command = [
        sys.executable,
        __file__,
        "--one",
        str(scale),
        "--side",
        side,
        "--device",
        args.device,
        "--data",
        str(args.data),
        "--column",
        args.column,
    ]
    if args.threads:
        command += ["--threads", str(args.threads)]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(result.stdout.splitlines()[-1])


def main() -> None:
    options = parser(__doc__.splitlines()[0])
    options.add_argument("--scales", default="1,10,100", help="comma-separated multiples of the data")
    options.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: one scale, one process
    options.add_argument("--side", default="villanueva", help=argparse.SUPPRESS)
    args = options.parse_args()
    if args.one:
        print(json.dumps(one_scale(args, args.one)))
        return
    setup(args)
    print(
        "scale  examples   build s  epoch s  examples/s  tensors MB  peak RSS MB | notebook build s, RSS MB"
    )
    first = None
    for scale in map(int, args.scales.split(",")):
        ours, theirs = measure(args, scale, "villanueva"), measure(args, scale, "notebook")
        first = first or ours
        print(
            f"{scale:>4}x {ours['examples']:>10,} {ours['build_s']:>8.2f} {ours['epoch_s']:>8.1f} "
            f"{ours['examples'] / ours['epoch_s']:>11,.0f} {ours['tensor_mb']:>11.1f} "
            f"{ours['rss_mb']:>12.0f} "
            f"| {theirs['build_s']:.2f}, {theirs['rss_mb']:.0f}",
            flush=True,
        )
    print(
        f"epoch time grows {ours['epoch_s'] / first['epoch_s']:.1f}x "
        f"for {ours['examples'] / first['examples']:.0f}x "
        f"the data; peak memory grows by {ours['rss_mb'] - first['rss_mb']:.0f} MB"
    )


if __name__ == "__main__":
    main()
