"""A small causal, decoder-only Transformer over the whole name (after nanoGPT's model.py).

    token + position embeddings -> Dropout -> blocks x Block -> LayerNorm -> Linear (tied or not)
    Block: x + attention(LayerNorm(x)), then x + MLP(LayerNorm(x))   (pre-LayerNorm)

Position t attends to positions 0..t only, so the logits at t predict character t + 1 and one pass
scores a whole name. Decoding keeps every block's keys and values (`cache`), so that each new
character is one position through the blocks, attending to the cached ones. Positions are learned,
one vector per position up to `max_length`; longer names cannot be read, so training data with
longer names is refused and sampling stops there.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

from villanueva.models.base import Cache, WholeNameModel
from villanueva.models.specs.transformer import TransformerConfig

INIT_STD = 0.02  # GPT-2's: small weights, so the untrained model predicts almost uniformly


class CausalSelfAttention(nn.Module):
    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.heads, self.dropout = config.heads, config.dropout
        self.qkv = nn.Linear(config.emb_dim, 3 * config.emb_dim)
        self.proj = nn.Linear(config.emb_dim, config.emb_dim)
        self.proj_dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor, past: tuple[torch.Tensor, torch.Tensor] | None = None):
        """The attention output of the positions of `x`, which follow the positions whose keys and
        values are `past` (None: `x` starts the names); returns it with the keys and values of all."""
        B, T, C = x.shape
        # (B, T, 3C) -> three (B, heads, T, C / heads)
        q, k, v = self.qkv(x).view(B, T, 3, self.heads, C // self.heads).permute(2, 0, 3, 1, 4)
        mask = None
        if past is not None:
            k, v = torch.cat([past[0], k], dim=2), torch.cat([past[1], v], dim=2)
            # Causal with an offset: new position i sees every past position and new ones up to i.
            # (Compared, not tril(offset): an exported graph keeps the comparison for any length.)
            seen = torch.arange(k.shape[2], device=x.device)
            mask = seen[None, :] <= seen[-T:, None]
        y = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, is_causal=past is None, dropout_p=self.dropout if self.training else 0.0
        )
        return self.proj_dropout(self.proj(y.transpose(1, 2).reshape(B, T, C))), (k, v)


class Block(nn.Module):
    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.attention_norm = nn.LayerNorm(config.emb_dim)
        self.attention = CausalSelfAttention(config)
        self.mlp_norm = nn.LayerNorm(config.emb_dim)
        self.mlp = nn.Sequential(
            nn.Linear(config.emb_dim, 4 * config.emb_dim),
            nn.GELU(),
            nn.Linear(4 * config.emb_dim, config.emb_dim),
            nn.Dropout(config.dropout),
        )

    def forward(self, x: torch.Tensor, past=None):
        attended, keys_values = self.attention(self.attention_norm(x), past)
        x = x + attended
        return x + self.mlp(self.mlp_norm(x)), keys_values


class Transformer(WholeNameModel):
    def __init__(self, config: TransformerConfig, vocab_size: int, label_count: int = 0):
        super().__init__(config, vocab_size, label_count)
        self.max_length = config.max_length
        self.token_embedding = nn.Embedding(vocab_size, config.emb_dim)
        # Inputs are the start token and then up to max_length characters.
        self.position_embedding = nn.Embedding(config.max_length + 1, config.emb_dim)
        self.dropout = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.blocks))
        self.final_norm = nn.LayerNorm(config.emb_dim)
        # Tied: the logits are scores against the token embeddings themselves, computed in forward
        # rather than by a second module sharing the tensor (which safetensors refuses to save).
        self.output = None if config.tie_weights else nn.Linear(config.emb_dim, vocab_size, bias=False)
        self._initialise(config)

    @torch.no_grad()
    def _initialise(self, config: TransformerConfig) -> None:
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, std=INIT_STD)
            if isinstance(module, nn.Linear) and module.bias is not None:
                nn.init.zeros_(module.bias)
        # Each block adds two outputs to the residual stream; shrinking them keeps its variance
        # from growing with depth (GPT-2).
        for block in self.blocks:
            for layer in (block.attention.proj, block.mlp[2]):
                layer.weight.mul_(1 / math.sqrt(2 * config.blocks))

    def empty_cache(self, count: int) -> Cache:
        # Keys and values of no position yet: (names, heads, 0, head size) for every block.
        heads, device = self.config.heads, self.final_norm.weight.device
        empty = torch.zeros(count, heads, 0, self.config.emb_dim // heads, device=device)
        return {f"{part}.{i}": empty for i in range(len(self.blocks)) for part in ("keys", "values")}

    def read(self, idx: torch.Tensor, cache: Cache) -> tuple[torch.Tensor, Cache]:
        cached = "keys.0" in cache  # perhaps of no position yet (empty_cache)
        read_so_far = cache["keys.0"].shape[2] if cached else 0
        positions = torch.arange(read_so_far, read_so_far + idx.shape[1], device=idx.device)
        x = self.dropout(
            self.token_embedding(idx) + self.position_embedding(positions) + cache.get("label", 0.0)
        )
        cache = dict(cache)
        for i, block in enumerate(self.blocks):
            past = (cache[f"keys.{i}"], cache[f"values.{i}"]) if cached else None
            x, (cache[f"keys.{i}"], cache[f"values.{i}"]) = block(x, past)
        x = self.final_norm(x)
        logits = F.linear(x, self.token_embedding.weight) if self.output is None else self.output(x)
        return logits, cache
