"""The `sklearn` peer (`pip install -e .[peers]`): scikit-learn's `SGDClassifier(loss="log_loss")` with a constant
learning rate, no penalty and no shuffling, `partial_fit` over each block in the feed's order: SGD at batch size 1 (its
only batch size), from the torch model's initial weights.

Its multiclass model is one-vs-rest: 10 independent binary logistic regressions (sigmoid, not softmax), so it does NOT
follow the softmax trajectory of the other steps, and only its accuracy is comparable. After each call its coef_ and
intercept_ are copied into the torch model's weight and bias, so the loop's evaluations measure its classifier: the
accuracy is its own; the loss the loop reports is the softmax cross-entropy of its logits, which is not what it
minimizes. The record says so in `strategy` ("sklearn-<version>-one-vs-rest").

scikit-learn runs float32 data in float32 (since 1.3). The step is registered with same_math=False (the tests that
compare every step's trajectory with autograd's leave it out), and for float32 only (the benchmarks time float32).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..errors import ConfigError
from ..losses import CROSS_ENTROPY, Loss
from .spec import StepSpec, frozen, linear_model, missing, require


def classifier(lr: float, fit_intercept: bool):
    from sklearn.linear_model import SGDClassifier

    return SGDClassifier(loss="log_loss", penalty=None, alpha=0.0, learning_rate="constant", eta0=lr,
                         shuffle=False, fit_intercept=fit_intercept, average=False, tol=None, random_state=0)


def sklearn_sgd(model: nn.Sequential, loss: Loss, lr: float, batch_size: int):
    sklearn = require("sklearn", "sklearn", "scikit-learn")
    lin = model[0]
    frozen(model)
    k, d = lin.weight.shape
    classes = np.arange(k)
    has_bias = lin.bias is not None
    clf = classifier(lr, has_bias)

    def load(est):
        """Start `est` from the torch model's current weights: coef_ set before partial_fit is trained in place."""
        est.coef_ = np.ascontiguousarray(lin.weight.detach().numpy(), dtype=np.float32).copy()
        est.intercept_ = (lin.bias.detach().numpy().astype(np.float32) if has_bias else np.zeros(k, np.float32))
        return est.coef_

    def step(x, y):
        load(clf)
        clf.partial_fit(x.numpy(), y.numpy(), classes=classes)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(clf.coef_))
            if has_bias:
                lin.bias.copy_(torch.from_numpy(clf.intercept_))

    # Warm up on a throwaway estimator and dummy rows (one per class), and check that this scikit-learn version trains
    # the preset coef_ (not fresh zeros): otherwise the step would silently restart from zero at every call.
    warm = classifier(lr, has_bias)
    preset = load(warm)
    start = preset.copy()
    warm.partial_fit(np.eye(k, d, dtype=np.float32), classes, classes=classes)
    if warm.coef_ is not preset or np.array_equal(warm.coef_, start) or warm.coef_.dtype != np.float32:
        raise ConfigError(f"step 'sklearn': scikit-learn {sklearn.__version__} does not train a preset coef_ in place "
                          f"(float32); this step cannot start it from the model's weights")
    step.strategy = f"sklearn-{sklearn.__version__}-one-vs-rest"
    return step


def supports(workload, device: str, batch_size, dtype: str) -> str | None:
    lin = linear_model(workload)
    if lin is None or workload.loss is not CROSS_ENTROPY or lin.out_features < 3:
        return "it is scikit-learn's multiclass linear classifier: one Linear layer, cross-entropy, 3 or more classes"
    if device != "cpu" or batch_size != 1 or dtype != "float32":
        return "scikit-learn's SGD runs at batch size 1, on the CPU; registered for float32 only"
    return missing("sklearn", "scikit-learn")


SPEC = StepSpec("sklearn", sklearn_sgd,
                "peer: scikit-learn SGDClassifier(log_loss), partial_fit, batch 1; ONE-VS-REST (10 sigmoid models), "
                "not softmax: its accuracy is comparable, its reported loss (softmax CE of its logits) is not what it "
                "fits",
                consumes="block", supports=supports, family="peer", same_math=False)
