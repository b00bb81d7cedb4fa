"""TensorBoard event files of a training run (`train --tensorboard DIR`): the training loss of each
chunk of steps, the validation loss, the learning rate and the update:data ratios, each at its step,
from the validation records the trainer hands to the run directory (the same numbers as
metrics.jsonl). TensorBoard is an optional extra: `pip install 'villanueva[tensorboard]'`.

A resumed run appends to the same DIR from its checkpoint on; TensorBoard shows the steps written
twice (before the interruption and after it) as one curve.
"""

import os
from pathlib import Path

from villanueva.errors import UserError
from villanueva.runs import files


class TensorBoardLog:
    """Checked when made (TensorBoard installed, DIR writable), so that a mistake stops the run
    before it starts; the event file itself is opened at the first record."""

    def __init__(self, directory: Path):
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            message = "--tensorboard needs TensorBoard: pip install 'villanueva[tensorboard]'"
            raise UserError(message) from None
        files.make_folder(directory, "tensorboard")
        if not os.access(directory, os.W_OK | os.X_OK):
            raise UserError(f"`tensorboard` {directory} is not a folder one can write into")
        self.open = lambda: SummaryWriter(str(directory))
        self.writer = None

    def record(self, record: dict) -> None:
        """Log one validation record (metrics.jsonl's form)."""
        self.writer = self.writer or self.open()
        if "val_loss" not in record:  # the step-0 record: the untrained model's loss
            if record.get("initial_loss") is not None:
                self.writer.add_scalar("loss/train", record["initial_loss"], 0)
            return
        step = record["step"]
        for end, mean in record.get("loss_chunks", []):
            self.writer.add_scalar("loss/train", mean, end)
        self.writer.add_scalar("loss/val", record["val_loss"], step)
        self.writer.add_scalar("lr", record["lr"], step)
        ratios = dict(record.get("update_ratios", {}))
        for measured_step, *values in zip(ratios.pop("step", []), *ratios.values()):
            for name, value in zip(ratios, values):
                self.writer.add_scalar(f"update_ratio_log10/{name}", value, measured_step)
        self.writer.flush()  # a killed run keeps what it logged

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
