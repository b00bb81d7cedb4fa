"""What updates the weights: the optimizer (`TrainConfig.optimizer`, with weight decay) and the
learning-rate schedule (`schedule`, with `warmup`), for the trainer and the learning-rate finder."""

import math

import torch
from torch import nn
from torch.optim.lr_scheduler import LambdaLR

from villanueva.training.config import TrainConfig


def build_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """Weight decay pulls the weight matrices and embeddings towards zero; biases and the gains of
    BatchNorm and LayerNorm (1-D) are left alone, as in nanoGPT: shrinking them only rescales."""
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [
        {"params": [p for p in params if p.dim() >= 2], "weight_decay": config.weight_decay},
        {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
    ]
    groups = [group for group in groups if group["params"]]
    if config.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=config.lr)
    return torch.optim.AdamW(groups, lr=config.lr)


def build_schedule(optimizer: torch.optim.Optimizer, config: TrainConfig) -> LambdaLR:
    """The learning rate of every step: `config.lr` times lr_factor. Its state is the step it is at;
    the factor is rebuilt from the config when a run resumes."""
    return LambdaLR(optimizer, lambda step: lr_factor(config, step))


def lr_factor(config: TrainConfig, step: int) -> float:
    """Multiplier of `lr` for optimisation step `step` (0-based)."""
    if step < config.warmup:
        return (step + 1) / config.warmup
    if config.schedule == "step":
        return config.final_lr_factor if step >= config.decay_at * config.steps else 1.0
    if config.schedule == "cosine":
        progress = (step - config.warmup) / max(1, config.steps - config.warmup)
        cosine = 0.5 * (1 + math.cos(math.pi * progress))
        return config.final_lr_factor + (1 - config.final_lr_factor) * cosine
    return 1.0
