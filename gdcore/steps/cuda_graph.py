"""The `fused` step on CUDA: the closed-form step captured once as a CUDA graph and replayed, one launch per step
instead of dozens."""
from __future__ import annotations

import torch
from torch import nn

from ..losses import Loss
from .plain import closed_form


def cuda_graph(model: nn.Sequential, loss: Loss, lr: float, batch_size: int):
    plain = closed_form(model, loss, lr)
    graph = None
    static: list[torch.Tensor] = []

    def capture(x, y):
        nonlocal graph
        static[:] = [x.clone(), y.clone()]
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        snapshot = [p.detach().clone() for p in model.parameters()]
        with torch.cuda.stream(side):  # warm-up outside the graph, as CUDA graph capture requires
            plain(*static)
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            plain(*static)
        with torch.no_grad():  # undo the warm-up and capture updates: the graph has not run a real step yet
            for p, s in zip(model.parameters(), snapshot):
                p.copy_(s)

    def step(x, y):
        for i in range(0, x.shape[0], batch_size):
            xb, yb = x[i:i + batch_size], y[i:i + batch_size]
            if xb.shape[0] != batch_size:  # a short last batch runs eagerly
                plain(xb, yb)
                continue
            if graph is None:
                capture(xb, yb)
            static[0].copy_(xb)
            static[1].copy_(yb)
            graph.replay()

    step.strategy = "cuda-graph"
    return step
