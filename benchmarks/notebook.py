"""The baseline: the study notebooks' MLPv1 code, re-written here faithfully for comparison.

Everything is as the notebook does it: the dataset built from Python lists of lists, raw tensors for
the parameters, BatchNorm by hand with running statistics updated at momentum 0.001, a fresh
`torch.randint` minibatch of 64 each step, `p.data += -lr * p.grad`, the per-step `loss.item()` for
the loss plot, and sampling one name at a time, one character per Python-loop iteration.
"""

import torch
import torch.nn.functional as F

BLOCK_SIZE, EMB_DIM, HIDDEN = 3, 10, 300
STEPS, BATCH_SIZE, DECAY_AT = 200_000, 64, 100_000  # lr 0.1, then 0.01


def build_dataset(words: list[str], stoi: dict[str, int]) -> tuple[torch.Tensor, torch.Tensor]:
    contexts, targets = [], []
    for word in words:
        context = [0] * BLOCK_SIZE
        for ch in word + ".":
            ix = stoi[ch]
            contexts.append(context)
            targets.append(ix)
            context = context[1:] + [ix]
    return torch.tensor(contexts), torch.tensor(targets)


def init_parameters(vocab_size: int, device: torch.device, seed: int = 2147483647) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    fan_in = EMB_DIM * BLOCK_SIZE
    params = {
        "C": torch.randn((vocab_size, EMB_DIM), generator=g),
        "W1": torch.randn((fan_in, HIDDEN), generator=g) * (5 / 3) / fan_in**0.5,
        "W2": torch.randn((HIDDEN, vocab_size), generator=g) * 0.01,
        "b2": torch.randn(vocab_size, generator=g) * 0,
        "bngain": torch.ones((1, HIDDEN)),
        "bnbias": torch.zeros((1, HIDDEN)),
    }
    params = {name: p.to(device).requires_grad_() for name, p in params.items()}
    params["bnmean_running"] = torch.zeros((1, HIDDEN), device=device)
    params["bnstd_running"] = torch.ones((1, HIDDEN), device=device)
    return params


def train(
    params: dict[str, torch.Tensor],
    Xtr: torch.Tensor,
    Ytr: torch.Tensor,
    steps: int = STEPS,
    seed: int = 2147483647,
) -> list[float]:
    g = torch.Generator().manual_seed(seed)
    C, W1, W2, b2, bngain, bnbias = (params[k] for k in ("C", "W1", "W2", "b2", "bngain", "bnbias"))
    parameters = [C, W1, W2, b2, bngain, bnbias]
    lossi = []
    for i in range(steps):
        ix = torch.randint(0, Xtr.shape[0], (BATCH_SIZE,), generator=g).to(Xtr.device)
        Xb, Yb = Xtr[ix], Ytr[ix]
        emb = C[Xb]
        embcat = emb.view(emb.shape[0], -1)
        hpreact = embcat @ W1
        bnmeani = hpreact.mean(0, keepdim=True)
        bnstdi = hpreact.std(0, keepdim=True)
        hpreact = bngain * (hpreact - bnmeani) / bnstdi + bnbias
        with torch.no_grad():
            params["bnmean_running"] = 0.999 * params["bnmean_running"] + 0.001 * bnmeani
            params["bnstd_running"] = 0.999 * params["bnstd_running"] + 0.001 * bnstdi
        h = torch.tanh(hpreact)
        logits = h @ W2 + b2
        loss = F.cross_entropy(logits, Yb)
        for p in parameters:
            p.grad = None
        loss.backward()
        lr = 0.1 if i < steps * DECAY_AT // STEPS else 0.01
        for p in parameters:
            p.data += -lr * p.grad
        lossi.append(loss.log10().item())
    return lossi


@torch.no_grad()
def logits_of(params: dict[str, torch.Tensor], X: torch.Tensor) -> torch.Tensor:
    """The notebook's evaluation forward pass: BatchNorm with the running statistics."""
    emb = params["C"][X]
    hpreact = emb.view(emb.shape[0], -1) @ params["W1"]
    hpreact = (
        params["bngain"] * (hpreact - params["bnmean_running"]) / params["bnstd_running"] + params["bnbias"]
    )
    return torch.tanh(hpreact) @ params["W2"] + params["b2"]


def split_loss(params: dict[str, torch.Tensor], X: torch.Tensor, Y: torch.Tensor) -> float:
    return F.cross_entropy(logits_of(params, X), Y).item()


@torch.no_grad()
def sample_one_at_a_time(
    model, count: int, block_size: int, device: torch.device, seed: int = 2147483647
) -> list[list[int]]:
    """The notebooks' sampling loop: one name at a time, one character per iteration."""
    g = torch.Generator().manual_seed(seed)
    names = []
    for _ in range(count):
        out, context = [], [0] * block_size
        while True:
            logits = model(torch.tensor([context], device=device))
            probs = F.softmax(logits, dim=1).cpu()
            ix = torch.multinomial(probs, num_samples=1, generator=g).item()
            context = context[1:] + [ix]
            out.append(ix)
            if ix == 0:
                break
        names.append(out)
    return names
