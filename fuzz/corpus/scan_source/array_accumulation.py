import torch

losses = []
for batch in range(10):
    loss = model(batch)
    losses.append(loss)  # expect: array_accumulation@5

detached = []
for batch in range(10):
    loss = model(batch)
    detached.append(loss.item())  # near miss: a float


def train(model, data, opt):
    total = 0.0
    for x in data:
        out = model(x)
        out.backward()
        total += out  # expect: array_accumulation@9
    kept = 0.0
    for x in data:
        out = model(x)
        kept += out.item()  # near miss
    return total, kept


class Trainer:
    def __init__(self):
        self.history = []

    def step(self, model, x):
        loss = model(x)
        loss.backward()
        self.history.append(loss)  # expect: array_accumulation@9

    def step_ok(self, model, x):
        pass
