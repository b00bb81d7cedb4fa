"""What the trainer records for the diagnostics, cheaply: the training loss as the mean of each
chunk of steps, and (with `TrainConfig.diagnose`) the update:data ratio of every weight matrix.

Both go into the validation records (the history), so they are saved with every checkpoint,
survive --resume bit for bit and land in metrics.jsonl. Measurements wait in tensors on the
training device until the next validation reads them back, in one synchronisation.
"""

from contextlib import contextmanager

import torch
from torch import nn

LOSS_CHUNK_MAX = 1_000  # steps per point of the loss curve on long runs
LOSS_CHUNKS_PER_RUN = 100  # shorter runs: chunks small enough to leave about this many points
UPDATE_RATIO_POINTS = 200  # measurements of the update:data ratios over a run
RATIO_FLOOR = 1e-20  # a step that changed nothing scores log10 = -20 (JSON has no -inf)


def loss_chunk(steps: int) -> int:
    """Steps per point of the loss curve: 1,000, or fewer on short runs."""
    return min(LOSS_CHUNK_MAX, max(1, steps // LOSS_CHUNKS_PER_RUN))


def chunk_means(losses: torch.Tensor, first_step: int, chunk: int) -> list[list]:
    """[[last step, mean loss], ...] of `losses`, the losses of steps first_step + 1, first_step + 2,
    ...; chunks end at multiples of `chunk` and at the last step, so they line up across
    validations whatever the validation interval."""
    last_step = first_step + len(losses)
    ends = [*range(first_step - first_step % chunk + chunk, last_step, chunk), last_step]
    sizes = [end - start for start, end in zip([first_step, *ends], ends)]
    means = torch.stack([piece.mean() for piece in losses.split(sizes)]).tolist()
    return [[end, mean] for end, mean in zip(ends, means)]


def update_ratio_interval(steps: int) -> int:
    return max(1, steps // UPDATE_RATIO_POINTS)


class UpdateRatios:
    """Every `every` steps (0 = never), log10(std(change of the weights in that step) / std(weights))
    of each weight matrix (2-D parameter). The actual change, not lr * grad, so the number is right
    for SGD, AdamW and weight decay alike. Around 1e-3 (-3) is the rule of thumb for healthy
    training: much lower learns slowly, much higher thrashes."""

    def __init__(self, model: nn.Module, every: int, interval: int, device: torch.device):
        weights = {name: p for name, p in model.named_parameters() if p.dim() == 2}
        self.every = every if weights else 0  # no weight matrix, nothing to measure
        self.weights = weights if self.every else {}
        rows = interval // every + 1 if self.every else 0  # the most between two validations
        self.pending = torch.zeros(rows, len(self.weights), device=device)

    @contextmanager
    def measuring(self, step: int, since: int):
        """Around the update of step `step` (counted from 1): when a measurement is due, what the
        update changes; `since` is the step of the last validation."""
        if not self.every or step % self.every:
            yield
            return
        weights = list(self.weights.values())
        before = [weight.detach().clone() for weight in weights]
        yield
        with torch.no_grad():
            ratios = [
                ((weight - old).std() / weight.std()).clamp_min(RATIO_FLOOR).log10()
                for weight, old in zip(weights, before)
            ]
        self.pending[self._count(since, step) - 1] = torch.stack(ratios)

    def _count(self, since: int, step: int) -> int:
        """Measurements taken after step `since` up to step `step`."""
        return step // self.every - since // self.every if self.every else 0

    def waiting(self, since: int, step: int) -> torch.Tensor:
        return self.pending[: self._count(since, step)]

    def restore(self, waiting: torch.Tensor) -> None:
        self.pending[: len(waiting)] = waiting

    def record(self, since: int, step: int) -> dict[str, list]:
        """{"step": [measured steps], weight name: [log10 ratios], ...} since the last validation."""
        columns = self.waiting(since, step).T.tolist()
        first = (since // self.every + 1) * self.every
        return {"step": list(range(first, step + 1, self.every)), **dict(zip(self.weights, columns))}
