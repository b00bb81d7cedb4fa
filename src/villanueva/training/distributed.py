"""Training in several processes, started by torchrun, with PyTorch's DistributedDataParallel:

    torchrun --nproc_per_node=2 -m villanueva train ...

Every process ("rank") holds the whole training set (compact: a few bytes an example) and draws the
same order from the same seed, so each knows every global batch without being sent it, and takes
its own shard of it. DDP adds up the gradients across ranks during the backward pass; each rank's
loss is weighted by its share of the batch's scored characters, so the summed gradient is the
gradient of the whole batch's mean loss, as in one process with the same --batch-size. Rank 0 alone
writes the run directory; the others train, validate and checkpoint in step with it, so that every
decision (the best model, early stopping, a diverged loss, a stop signal) is the same everywhere.

Where this differs from one process: BatchNorm normalises each rank's shard by its own statistics
(DDP without SyncBatchNorm), dropout draws other masks, and the sums are in another order, so the
loss curve matches a single process's within a tolerance, not bit for bit (tests/test_distributed.py).

Reductions are SUM, divided afterwards: gloo's AVG has had correctness bugs.
"""

import atexit
import os
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

from villanueva.data.tensors import IGNORED
from villanueva.errors import UserError


@dataclass(frozen=True)
class Ranks:
    """The processes training together, as seen from one of them, and its device; Ranks() is a
    single process."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")  # this rank's: its own GPU (LOCAL_RANK) among several

    @classmethod
    def from_environment(cls, device: torch.device) -> "Ranks":
        """The ranks torchrun started (WORLD_SIZE, RANK, LOCAL_RANK), joined into one process
        group: NCCL between GPUs, gloo between CPU processes; a single process on `device`
        outside torchrun."""
        world = int(os.environ.get("WORLD_SIZE", "1"))
        if world == 1:
            return cls(device=device)
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        if device.type == "cuda":
            device = torch.device("cuda", local_rank)
        ranks = cls(int(os.environ["RANK"]), world, local_rank, device)
        if not dist.is_initialized():
            if device.type == "cuda":
                torch.cuda.set_device(local_rank)
            dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
            # On the way out of an interrupted or failed run, alone: a rank waiting there for the
            # others could wait for one that is gone.
            atexit.register(lambda: dist.is_initialized() and dist.destroy_process_group())
        return ranks

    def leave(self) -> None:
        """Leave the process group, all ranks together: at the end of training, or when all stop
        at once (a rank that leaves while others still use it can abort in gloo's threads); a
        no-op in one process."""
        if self.world > 1 and dist.is_initialized():
            dist.barrier()
            dist.destroy_process_group()

    @property
    def writes(self) -> bool:
        """Whether this rank writes the run directory and prints: rank 0 only."""
        return self.rank == 0

    def check_batch(self, batch_size: int) -> None:
        if batch_size < self.world:
            raise UserError(f"--batch-size {batch_size} is less than the {self.world} processes sharing it")

    def shard(self, batch: torch.Tensor) -> torch.Tensor:
        """This rank's part of a global batch of example indices."""
        return batch[self.rank :: self.world]

    def share(self, targets: torch.Tensor, batch: torch.Tensor, shard: torch.Tensor) -> torch.Tensor | float:
        """The weight of this rank's mean loss: world x its share of the batch's scored characters
        (1 in one process), so that DDP's mean of the ranks' gradients is the batch's gradient."""
        if self.world == 1:
            return 1.0
        return self.world * (targets[shard] != IGNORED).sum() / (targets[batch] != IGNORED).sum()

    def wrap(self, model: nn.Module) -> nn.Module:
        """The module to train through: DDP around `model` (sharing its parameters) across ranks."""
        if self.world == 1:
            return model
        return nn.parallel.DistributedDataParallel(model)

    def mean(self, tensor: torch.Tensor) -> torch.Tensor:
        """The mean over the ranks of `tensor` (a new tensor; `tensor` itself in one process)."""
        if self.world == 1:
            return tensor
        total = tensor.clone()
        dist.all_reduce(total, dist.ReduceOp.SUM)
        return total / self.world

    def any(self, flag: bool) -> bool:
        """Whether `flag` is true on any rank."""
        if self.world == 1:
            return flag
        on = self.device if dist.get_backend() == "nccl" else None  # NCCL reduces GPU tensors only
        count = torch.tensor([int(flag)], device=on)
        dist.all_reduce(count, dist.ReduceOp.SUM)
        return bool(count)

    @contextmanager
    def together(self):
        """A stage every rank leaves together: when one fails (a used run directory, say), the
        others stop too, instead of waiting for it at the next gradient forever."""
        try:
            yield
        except BaseException:
            self.any(True)
            self.leave()
            raise
        if self.any(False):
            self.leave()
            raise UserError(
                f"process {self.rank} stopped: another process of this torchrun failed (its message says why)"
            )
