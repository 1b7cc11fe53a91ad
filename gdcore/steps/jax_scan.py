"""The `jax` peer (`pip install -e .[peers]`): what a JAX user would write for SGD on a linear model. `jax.jit` of
`lax.scan` over the batches, each step `jax.grad` of the loss (the losses of gdcore/losses.py written in jax.numpy:
cross-entropy = mean over the batch of -log_softmax; half squared error = sum((o - y)^2) / 2B; MSE = mean). It sees
the same samples in the same order: the block from the feed, handed to jax without a copy (DLPack).

Every compiled shape is fixed, so that all compilation happens in `make` (outside any timed region) and a block of any
length never recompiles:
- a block is cut into chunks of K batches (K * batch_size = about CHUNK_ROWS rows; one batch when the batch is
  larger), each one call of the jitted `lax.scan` over K batches;
- what is left (fewer than K whole batches, then the epoch's short last batch if any) is one call of a second jitted
  function on a window of K * batch_size rows that ends at the block's end (a view; a zero-padded copy only when the
  block itself is shorter): a `lax.fori_loop` over the whole batches from a traced offset, then one step on the last
  batch_size rows of the window, whose loss is the mean over its last `rest` rows only (a row mask), under `lax.cond`.
The torch model stays the source of truth: each call reads its weights and writes the updated ones back into it.

float64 needs `jax.config.update("jax_enable_x64", True)`. It is set in `make` only for a float64 model, and it is
process-wide: from then on jax code elsewhere in the process gets 64-bit defaults (this step passes explicit dtypes,
so its float32 runs are not affected).
"""
from __future__ import annotations

import functools

import numpy as np
import torch
from torch import nn

from ..errors import ConfigError
from ..losses import Loss
from .spec import StepSpec, frozen, linear_model, missing, require

KINDS = ("cross-entropy", "half-squared-error", "mse")
CHUNK_ROWS = 8192  # rows per jitted scan call: long enough that a call's dispatch (tens of microseconds) is noise
@functools.lru_cache(maxsize=None)
def kernels(kind: str, has_bias: bool, bs: int, K: int):
    """(chunk, tail): the two jitted functions for one loss, bias, batch size and chunk length. Cached per process, so
    a new model of the same shape reuses jax's compiled code."""
    import jax
    import jax.numpy as jnp
    from jax import lax

    def loss(params, x, y, w):
        z = x @ params[0].T
        if has_bias:
            z = z + params[1]
        if kind == "cross-entropy":
            per_row = -jnp.take_along_axis(jax.nn.log_softmax(z, axis=1), y[:, None], axis=1)[:, 0]
        elif kind == "half-squared-error":
            per_row = 0.5 * jnp.sum((z - y) ** 2, axis=1)
        else:  # mse: the mean over all elements is the mean over rows of each row's mean
            per_row = jnp.mean((z - y) ** 2, axis=1)
        return jnp.mean(per_row) if w is None else jnp.sum(per_row * w)

    def sgd(params, x, y, lr, w=None):
        grads = jax.grad(loss)(params, x, y, w)
        return tuple(p - lr * g for p, g in zip(params, grads))

    @jax.jit
    def chunk(params, X, Y, lr):
        """K batches of bs rows, one SGD step each, in order: lax.scan."""
        xs = X.reshape((K, bs) + X.shape[1:])
        ys = Y.reshape((K, bs) + Y.shape[1:])
        return lax.scan(lambda p, xy: (sgd(p, xy[0], xy[1], lr), None), params, (xs, ys))[0]

    @jax.jit
    def tail(params, X, Y, start, full, rest, lr):
        """On a window of K * bs rows: `full` whole batches from row `start`, then a batch of the last `rest` rows."""
        def body(i, p):
            s = start + i * bs
            return sgd(p, lax.dynamic_slice_in_dim(X, s, bs), lax.dynamic_slice_in_dim(Y, s, bs), lr)

        params = lax.fori_loop(0, full, body, params)
        w = (jnp.arange(bs) >= bs - rest).astype(X.dtype) / jnp.maximum(rest, 1).astype(X.dtype)
        return lax.cond(rest > 0, lambda p: sgd(p, X[-bs:], Y[-bs:], lr, w), lambda p: p, params)

    return chunk, tail


def jax_scan(model: nn.Sequential, loss: Loss, lr: float, batch_size: int):
    jax = require("jax", "jax", "jax")
    import jax.dlpack

    lin = model[0]
    frozen(model)
    dtype = lin.weight.detach().numpy().dtype
    if dtype == np.float64:
        jax.config.update("jax_enable_x64", True)  # process-wide (see the module docstring)
    has_bias, ce = lin.bias is not None, loss.name == "cross-entropy"
    k, d = lin.weight.shape
    K = max(1, CHUNK_ROWS // batch_size)
    C = K * batch_size
    chunk, tail = kernels(loss.name, has_bias, batch_size, K)
    lr_ = dtype.type(lr)
    # A block shorter than one chunk is copied to the end of two buffers, made on first use (zero-copy to jax: safe,
    # since every call waits for its results before it returns, and only the next call overwrites them).
    pads: list[torch.Tensor] = []

    cpu = jax.devices("cpu")[0]

    def put(a: np.ndarray):
        """A jax array committed to the CPU, as every other argument is (dlpack imports, jit outputs): an uncommitted
        argument would compile a second executable, in the timed loop."""
        return jax.device_put(a, cpu)

    def as_jax(t: torch.Tensor):
        return jax.dlpack.from_dlpack(t.detach().contiguous())  # no copy: jax reads the feed's memory

    def run(params, x: torch.Tensor, y: torch.Tensor):
        m = x.shape[0]
        y = torch.from_numpy(y.numpy().astype(np.int32)) if ce else y  # jax's default integers are 32-bit
        chunks = m // C
        for i in range(chunks):
            params = chunk(params, as_jax(x[i * C:(i + 1) * C]), as_jax(y[i * C:(i + 1) * C]), lr_)
        t = m - chunks * C
        if t:
            if m >= C:
                X, Y = as_jax(x[m - C:]), as_jax(y[m - C:])
            else:
                if not pads:
                    pads[:] = [torch.zeros((C,) + t_.shape[1:], dtype=t_.dtype) for t_ in (x, y)]
                pads[0][C - t:] = x
                pads[1][C - t:] = y
                X, Y = as_jax(pads[0]), as_jax(pads[1])
            full, rest = divmod(t, batch_size)
            # explicit int32 scalars: their type does not follow jax_enable_x64
            params = tail(params, X, Y, np.int32(C - t), np.int32(full), np.int32(rest), lr_)
        return params

    def current():
        return tuple(put(p.detach().numpy().copy()) for p in model.parameters())

    def step(x, y):
        if x.dtype != lin.weight.dtype:
            raise ConfigError(f"step 'jax': the data are {x.dtype}, the model {lin.weight.dtype}")
        params = run(current(), x, y)
        with torch.no_grad():
            for p, new in zip(model.parameters(), params):
                p.copy_(torch.from_numpy(np.array(new)))

    # Compile both functions now, on dummy blocks and copies of the weights (the model is not changed): one chunk, then
    # a block one row longer (a chunk and the tail, with a short batch when batches have more than one row).
    dummy_y = torch.zeros(C + 1, dtype=torch.int64) if ce else torch.zeros((C + 1, k), dtype=lin.weight.dtype)
    dummy_x = torch.zeros((C + 1, d), dtype=lin.weight.dtype)
    jax.block_until_ready(run(current(), dummy_x[:C], dummy_y[:C]))
    jax.block_until_ready(run(current(), dummy_x, dummy_y))
    step.strategy = f"jax-{jax.__version__}"
    return step


def supports(workload, device: str, batch_size, dtype: str) -> str | None:
    lin = linear_model(workload)
    if lin is None or workload.loss.name not in KINDS:
        return "it covers one Linear layer with cross-entropy, squared error / 2 or MSE"
    if device != "cpu":
        return "it runs jax's CPU build (the peers extra installs jax[cpu])"
    return missing("jax", "jax")


SPEC = StepSpec("jax", jax_scan, "peer: JAX, jit of lax.scan over the block's batches, jax.grad (linear models, CPU)",
                consumes="block", supports=supports, family="peer")
