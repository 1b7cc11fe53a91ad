"""Document 004's listings, transcribed line for line: run as published by doc004.py and doc004_init.py."""
from __future__ import annotations

# Document 004, section 3, line for line (line numbers as the post prints them).
AUTOGRAD_LISTING = """import torch
from torch.autograd import Variable
x = Variable(torch.Tensor([1]),requires_grad=True)
w = Variable(torch.Tensor([2]),requires_grad=True)
b = Variable(torch.Tensor([3]),requires_grad=True)

y = w*x+b
y.backward()
print(x.grad)
print(w.grad)
print(b.grad)
"""

# Document 004, section 1's torch listing, line for line (its comments shortened; line numbers as the post's).
TORCH_LISTING = """import torch

dtype = torch.float
device = torch.device("cpu")
# device = touch.device("cuda:0")

# N is the batch size, D_in the input dimension
# H the hidden dimension, D_out the output dimension
N, D_in, H, D_out = 64, 1000, 100, 10

# random inputs and outputs
#
x = torch.randn(N, D_in, device=device, dtype=dtype)
y = torch.randn(H, D_out, device=device, dtype=dtype)

# random weights
#
w1 = torch.randn(D_in, H, device=device, dtype=dtype, requires_grad=True)
w2 = torch.randn(H, D_out, device=device, dtype=dtype, requires_grad=True)

# learning rate
learing_rate = 1e-6
for t in range(500):
    # forward pass
    #
    y_pred = x.mm(w1).clamp(min=0).mm(w2)

    # loss
    #
    #
    loss = (y_pred - y).pow(2).sum()
    print(t, loss.item())

    # backward pass
    #
    #
    #
    loss.backward()

    # update the weights by hand
    #
    #
    #
    with torch.no_grad():
        w1 -= learning_rate * w1.grad
        w2 -= learning_rate * w2.grad

        # reset the gradients
        w1.grad.zero_()
        w2.grad.zero_()
"""

# Document 004, section 5's NumPy linear regression, line for line: from w = 0.
LINREG_LISTING = """import numpy as np

x_data = np.array([1, 2, 3])
y_data = np.array([2, 4, 6])

epochs = 10
lr = 0.1
w = 0
cost = []

for epoch in range(epochs):
    yhat = x_data * w
    loss = np.average((yhat - y_data) ** 2)
    cost.append(loss)
    dw = -2 * (y_data - yhat) @ x_data.T / (x_data.shape[0])
    w = w - lr * dw
    print(w)
"""
