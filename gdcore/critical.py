"""The critical batch size, two ways (McCandlish et al. 2018, "An Empirical Model of Large-Batch Training"):

- from the trade-off: fit S = S_min (1 + B_crit / B) to the steps S to target at each batch size B (each at its best
  learning rate); equivalently (S/S_min - 1)(E/E_min - 1) = 1 with E = S B samples and B_crit = E_min / S_min;
- from gradient noise: the simple noise scale B_simple = tr(Sigma) / |G|^2, where G is the full-batch gradient and
  Sigma the covariance of the per-sample gradients.

`noise_scale` is the one the runs use: for a stack of Linear layers and elementwise functions, sample i's gradient
of a layer's weight is the outer product d_i a_i^T of the loss gradient at the layer's output and the layer's input,
so |g_i|^2 = sum over layers |d_i|^2 (|a_i|^2 + 1 with a bias), from one forward and backward pass over the data
(the closed form of the per-sample gradients; exact, for linear models and MLPs alike). `simple_noise_scale`
computes the same from every per-sample gradient (torch.func), the brute force the tests compare it with.
"""
from __future__ import annotations

import random
from typing import Sequence

import torch
from torch import nn


def fit_steps(batch_sizes: Sequence[float], steps: Sequence[float]) -> tuple[float, float]:
    """(S_min, B_crit) of S = S_min + S_min B_crit / B, by least squares in 1/B, each point weighted by 1/S (so that
    relative, not absolute, errors count: steps span decades). B_crit is at least 0: where steps do not fall as the
    batch grows, the best fit with B_crit = 0 (every batch size measured is beyond the critical one)."""
    if len(batch_sizes) < 2:
        raise ValueError(f"fitting needs steps at 2 or more batch sizes, got {len(batch_sizes)}")
    u = torch.tensor([1.0 / b for b in batch_sizes], dtype=torch.float64)
    s = torch.tensor(list(steps), dtype=torch.float64)
    w = 1.0 / s
    A = torch.stack([torch.ones_like(u), u], 1) * w[:, None]
    coef = torch.linalg.lstsq(A, (s * w)[:, None]).solution.flatten()
    s_min, c = float(coef[0]), float(coef[1])
    if c < 0:  # steps grow with the batch size (noise): a negative B_crit means nothing; S = S_min fits best
        return float((w.sum() / (w * w).sum()).item()), 0.0
    if s_min <= 1e-9 * float(s.max()):  # steps do not level off within the batch sizes measured: B_crit is beyond them
        return float("nan"), float("inf")
    return s_min, c / s_min


def bootstrap(per_seed: dict[float, Sequence[float]], draws: int = 1000, seed: int = 0,
              level: float = 0.9) -> tuple[float, float, float]:
    """B_crit from the median steps per batch size, and a `level` interval by resampling the seeds of each batch
    size with replacement: (estimate, low, high)."""
    import statistics

    sizes = sorted(per_seed)
    est = fit_steps(sizes, [statistics.median(per_seed[b]) for b in sizes])[1]
    rng = random.Random(seed)
    values = []
    for _ in range(draws):
        med = [statistics.median(rng.choices(list(per_seed[b]), k=len(per_seed[b]))) for b in sizes]
        values.append(fit_steps(sizes, med)[1])
    values.sort()
    lo, hi = values[int((1 - level) / 2 * draws)], values[int((1 + level) / 2 * draws) - 1]
    return est, lo, hi


def noise_scale(model: nn.Module, loss, x: torch.Tensor, y: torch.Tensor, chunk: int = 8192) -> float:
    """B_simple = tr(Sigma) / |G|^2 over the samples (x, y) from per-sample gradient norms (see the module doc);
    Sigma is the unbiased covariance of the per-sample gradients. inf where the gradient is 0."""
    layers = [m for m in model.modules() if isinstance(m, nn.Linear)]
    n = x.shape[0]
    sq = 0.0  # sum over samples of |g_i|^2
    total = [None] * len(layers)  # sum over samples of each layer's gradient (weight, bias)
    for i in range(0, n, chunk):
        seen: list = []
        hooks = [m.register_forward_hook(lambda m, inp, out: seen.append((inp[0].detach(), out))) for m in layers]
        try:
            with torch.enable_grad():  # the input requires grad, so the layers' outputs do even with frozen weights
                value = loss.value(model(x[i:i + chunk].detach().requires_grad_()), y[i:i + chunk])
        finally:
            for h in hooks:
                h.remove()
        # per-sample terms on one scale in every chunk (a constant factor cancels in the ratio)
        scale = float(min(chunk, n - i)) if loss.reduction == "mean" else 1.0
        deltas = [d * scale for d in torch.autograd.grad(value, [out for _, out in seen])]
        for k, ((a, _), d, m) in enumerate(zip(seen, deltas, layers)):
            a, d = a.double(), d.double()
            a_sq = (a * a).sum(1) + (1.0 if m.bias is not None else 0.0)
            sq += float(((d * d).sum(1) * a_sq).sum())
            g = [d.T @ a] + ([d.sum(0)] if m.bias is not None else [])
            total[k] = g if total[k] is None else [t + u for t, u in zip(total[k], g)]
    g2 = sum(float((t * t).sum()) for parts in total for t in parts) / n**2
    trace = (sq / n - g2) * n / (n - 1)
    return trace / g2 if g2 > 0 else float("inf")


def per_sample_grads(model: nn.Module, loss, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Each sample's gradient of the loss, flattened: one row per sample (torch.func: vmap of grad)."""
    from torch.func import functional_call, grad, vmap

    params = {k: v.detach() for k, v in model.named_parameters()}

    def one(p, xi, yi):
        return loss.value(functional_call(model, p, (xi[None],)), yi[None])

    g = vmap(grad(one), in_dims=(None, 0, 0))(params, x, y)
    return torch.cat([g[k].reshape(x.shape[0], -1) for k in params], 1)


@torch.no_grad()
def simple_noise_scale(model: nn.Module, loss, x: torch.Tensor, y: torch.Tensor, chunk: int = 4096) -> float:
    """B_simple = tr(Sigma) / |G|^2 over the samples (x, y), with Sigma the unbiased covariance of the per-sample
    gradients (of a mean loss; a sum loss's per-sample gradients are the same terms). Computed in chunks."""
    n = x.shape[0]
    total = sq = None
    for i in range(0, n, chunk):
        with torch.enable_grad():
            g = per_sample_grads(model, loss, x[i:i + chunk], y[i:i + chunk]).double()
        total = g.sum(0) if total is None else total + g.sum(0)
        sq = (g * g).sum() if sq is None else sq + (g * g).sum()
    mean = total / n
    g2 = float(mean @ mean)
    trace = (float(sq) / n - g2) * n / (n - 1)
    return trace / g2 if g2 > 0 else float("inf")
