#!/usr/bin/env python3
"""Reference fixtures for the TypeScript Adam + ExponentialLR (tests/train/adam_test.ts).

Builds a tiny two-group model (a "backbone" group and a "classifier" group, as in the official RUL
script: lr 2e-4 and 2e-3, weight decay 1e-4 added to the gradient), runs torch.optim.Adam with
torch.optim.lr_scheduler.ExponentialLR(gamma=0.9) stepped once per epoch, and records for every
optimiser step the gradients fed in and the parameters after the step, plus the final optimiser
state (step, exp_avg, exp_avg_sq). In one step a parameter gets no gradient (grad = None), which
torch.optim.Adam skips without advancing its step count.

Run with Debian's Python (dev-time only; the tests read the committed JSON):
    /usr/bin/python3 tools/make_optim_fixtures.py
"""
import json
import os

import torch

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "train", "adam.json")


def main():
    torch.manual_seed(0)
    backbone = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.BatchNorm1d(4), torch.nn.ReLU())
    classifier = torch.nn.Linear(4, 3)
    named = {}
    for prefix, mod in (("backbone", backbone), ("classifier", classifier)):
        for n, p in mod.named_parameters():
            named[f"{prefix}.{n}"] = p
    groups = [
        {"name": "backbone", "params": [n for n in named if n.startswith("backbone.")], "lr": 2e-4},
        {"name": "classifier", "params": [n for n in named if n.startswith("classifier.")],
         "lr": 2e-3},
    ]
    opt = torch.optim.Adam(
        [{"params": [named[n] for n in g["params"]], "lr": g["lr"]} for g in groups],
        betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)

    def flat(t):
        return [float(v) for v in t.detach().reshape(-1).tolist()]

    fixture = {
        "betas": [0.9, 0.999], "eps": 1e-8, "weightDecay": 1e-4, "gamma": 0.9,
        "groups": groups,
        "shapes": {n: list(p.shape) for n, p in named.items()},
        "initial": {n: flat(p) for n, p in named.items()},
        "epochs": [],
    }
    x = torch.randn(8, 5)
    y = torch.randint(0, 3, (8,))
    skip_at = (1, 1)  # (epoch, step): classifier.bias gets no gradient
    for epoch in range(3):
        steps = []
        lrs = [g["lr"] for g in opt.param_groups]
        for step in range(2):
            opt.zero_grad(set_to_none=True)
            loss = torch.nn.functional.cross_entropy(classifier(backbone(x * (1 + step + epoch))), y)
            loss.backward()
            if (epoch, step) == skip_at:
                named["classifier.bias"].grad = None
            grads = {n: flat(p.grad) for n, p in named.items() if p.grad is not None}
            opt.step()
            steps.append({"grads": grads, "after": {n: flat(p) for n, p in named.items()}})
        sched.step()
        fixture["epochs"].append({"lrs": lrs, "steps": steps})
    fixture["finalLrs"] = [g["lr"] for g in opt.param_groups]
    state = {}
    for n, p in named.items():
        s = opt.state[p]
        state[n] = {"step": float(s["step"]), "exp_avg": flat(s["exp_avg"]),
                    "exp_avg_sq": flat(s["exp_avg_sq"])}
    fixture["finalState"] = state
    fixture["torch"] = torch.__version__
    tmp = OUT + ".tmp"
    with open(tmp, "w") as f:
        json.dump(fixture, f)
    os.replace(tmp, OUT)
    print(f"wrote {os.path.relpath(OUT)} (torch {torch.__version__})")


if __name__ == "__main__":
    main()
