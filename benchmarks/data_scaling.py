"""How training cost grows with the data, before and after compact examples: 1x, 10x, 100x (and
1,000x) the training names.

    python benchmarks/data_scaling.py [--scales 1,10,100,1000] [--steps 2000] [--device cuda]

The notebooks' training names are repeated k times, for the fast recipe's mlp-bn (block 6, hidden
200, batches of 1,024). Each scale and side runs in a fresh process, so its peak memory (RSS) is
its own. Two sides, measured in the same run:

- after: what villanueva does now. Ids in the smallest integer type (uint8: 7 bytes an example of
  block 6), the epoch's order in int32, BatchNorm calibrated in chunks, and checkpoints that keep
  the generator's state instead of the order.
- before: what it did until this change, rebuilt here: the same examples widened to int64 (56
  bytes an example), the order in int64 and saved in every checkpoint, and calibration in one
  forward pass of the whole training set (skipped where its activations would not fit in memory).

Training speed is measured over `--steps` steps, not whole epochs (an epoch of the 1,000x list is
81,000 steps); the epoch time is the examples of one epoch at that rate.
"""

import argparse
import json
import resource
import subprocess
import sys
import time

import safetensors.torch
import torch

from villanueva.machine import available_bytes
from villanueva.models import build_model, make_config
from villanueva.training import Callbacks, TrainConfig, calibrate_batchnorm, train, trainer

from common import parser, setup, timed
from train_speed import FAST_MODEL, FAST_RECIPE

SIDES = ("before", "after")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def one_scale(args, scale: int, side: str) -> dict:
    """Build the data at `scale`, train `args.steps` steps, checkpoint and calibrate, one side."""
    device, split, vocab = setup(args)
    model = build_model("mlp-bn", make_config("mlp-bn", **FAST_MODEL), len(vocab)).to(device)
    baseline_mb = peak_rss_mb()  # torch, the model and the 1x list, before any examples exist
    names = split.train * scale
    (inputs, targets), build_s = timed(model.examples, names, vocab)
    if side == "before":
        inputs, targets = inputs.long(), targets.long()
        # The order as it was drawn before: int64 (torch draws the same permutation either way).
        trainer.epoch_order = lambda examples, generator: torch.randperm(examples, generator=generator)
    train_set = (inputs.to(device), targets.to(device))
    val_set = tuple(t.to(device) for t in model.examples(split.val, vocab))
    checkpoints = []
    config = TrainConfig(
        batch_size=FAST_RECIPE["batch_size"], lr=FAST_RECIPE["lr"], steps=args.steps, eval_every=args.steps
    )
    result = train(model, train_set, val_set, config, Callbacks(on_checkpoint=checkpoints.append))
    examples_per_s = args.steps * config.batch_size / result.history[-1]["seconds"]
    checkpoint = checkpoints[-1].tensors
    if side == "before":
        checkpoint = {**checkpoint, "order": result_order(checkpoint, len(targets))}
    checkpoint_mb = len(safetensors.torch.save(checkpoint)) / 2**20
    calibration_s = calibrate(model, train_set[0], side)
    data_bytes = inputs.nbytes + targets.nbytes
    order_bytes = (4 if side == "after" else 8) * len(targets)
    return {
        "examples": len(targets),
        "bytes_per_example": (data_bytes + order_bytes) / len(targets),
        "build_s": build_s,
        "examples_per_s": examples_per_s,
        "epoch_s": len(targets) / examples_per_s,
        "checkpoint_mb": checkpoint_mb,
        "calibration_s": calibration_s,
        "rss_mb": peak_rss_mb(),
        "rss_per_example": (peak_rss_mb() - baseline_mb) * 2**20 / len(targets),
    }


def result_order(checkpoint: dict, examples: int) -> torch.Tensor:
    """The order a format-1 checkpoint stored: the permutation the saved generator state drew."""
    generator = torch.Generator().set_state(checkpoint["order_drawn_from"])
    return torch.randperm(examples, generator=generator)


def calibrate(model, contexts: torch.Tensor, side: str) -> float | None:
    """Seconds to calibrate BatchNorm; None where the single pass of `before` would not fit."""
    if side == "after":
        return timed(calibrate_batchnorm, model, contexts)[1]
    # One pass holds a few (examples, hidden) float32 tensors at once: the linear layer's output,
    # its centred copy and the normalised one.
    if 3 * len(contexts) * FAST_MODEL["hidden"] * 4 > available_bytes() / 2:
        return None
    return timed(calibrate_batchnorm, model, contexts, len(contexts))[1]


def measure(args, scale: int, side: str) -> dict:
    command = [sys.executable, __file__, "--one", str(scale), "--side", side, "--steps", str(args.steps)]
    command += ["--device", args.device, "--data", str(args.data), "--column", args.column]
    if args.threads:
        command += ["--threads", str(args.threads)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode:
        return {"failed": result.stderr.strip().splitlines()[-1]}
    return json.loads(result.stdout.splitlines()[-1])


def row(scale: int, side: str, m: dict) -> str:
    if "failed" in m:
        return f"{scale:>5}x {side:<6}  failed: {m['failed']}"
    calibration = "   no room" if m["calibration_s"] is None else f"{m['calibration_s']:>10.2f}"
    return (
        f"{scale:>5}x {side:<6} {m['examples']:>11,} {m['bytes_per_example']:>7.0f} {m['build_s']:>8.2f} "
        f"{m['examples_per_s']:>11,.0f} {m['epoch_s']:>9.1f} {m['checkpoint_mb']:>9.1f} {calibration} "
        f"{m['rss_mb']:>9,.0f} {m['rss_per_example']:>8.0f}"
    )


def main() -> None:
    options = parser(__doc__.splitlines()[0])
    options.add_argument("--scales", default="1,10,100", help="comma-separated multiples of the data")
    options.add_argument("--steps", type=int, default=2000, help="training steps timed at each scale")
    options.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: one scale, one process
    options.add_argument("--side", choices=SIDES, help=argparse.SUPPRESS)
    args = options.parse_args()
    if args.one:
        print(json.dumps(one_scale(args, args.one, args.side)))
        return
    setup(args)
    print(f"mlp-bn {FAST_MODEL}, batch {FAST_RECIPE['batch_size']}, {args.steps:,} steps timed per scale")
    print(
        " scale side      examples  B/ex.  build s  examples/s   epoch s  ckpt MB  calib. s"
        "  peak MB  RSS B/ex."
    )
    started = time.perf_counter()
    for scale in map(int, args.scales.split(",")):
        measured = {side: measure(args, scale, side) for side in SIDES}
        for side in SIDES:
            print(row(scale, side, measured[side]), flush=True)
        before, after = measured["before"], measured["after"]
        if "failed" not in before and "failed" not in after:
            memory = after["rss_per_example"] / before["rss_per_example"]
            print(
                f"       after/before: memory per example {memory:.2f}x, "
                f"examples/s {after['examples_per_s'] / before['examples_per_s']:.2f}x, "
                f"checkpoint {after['checkpoint_mb'] / before['checkpoint_mb']:.2f}x",
                flush=True,
            )
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
