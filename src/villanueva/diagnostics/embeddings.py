"""The character embeddings in two dimensions: the table itself when it is 2-D, else its first two
principal components (the directions along which the characters differ most)."""

from dataclasses import dataclass

import torch
from torch import nn

from villanueva.data import Vocab
from villanueva.models.layers import Embedding


@dataclass
class Embedding2D:
    method: str  # how the points were obtained
    chars: list[str]
    points: list[list[float]]  # one [x, y] per character


def embedding_2d(model: nn.Module, vocab: Vocab) -> Embedding2D | None:
    """The first character embedding table of `model` (one row per vocabulary entry), in 2-D;
    None when the model has none."""
    tables = [
        module.weight
        for module in model.modules()
        if isinstance(module, (Embedding, nn.Embedding)) and module.weight.shape[0] == len(vocab)
    ]
    if not tables:
        return None
    table = tables[0].detach().float().cpu()
    if table.shape[1] <= 2:
        points = torch.cat([table, torch.zeros(len(table), 2 - table.shape[1])], dim=1)
        method = "the embedding itself" if table.shape[1] == 2 else "the embedding itself (1-D)"
    else:
        centred = table - table.mean(dim=0)
        directions = torch.linalg.svd(centred, full_matrices=False).Vh[:2]
        points = centred @ directions.T
        method = f"PCA of the {table.shape[1]}-D embedding"
    return Embedding2D(method, list(vocab.chars), points.tolist())
