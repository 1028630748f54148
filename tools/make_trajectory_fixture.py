#!/usr/bin/python3
"""Fixture for tests/train/trajectory_test.ts (dev-time only): states along a PyTorch training run
of the official RUL model and of the baseline, and what one step does from each.

    /usr/bin/python3 tools/make_trajectory_fixture.py

Two epochs of the official recipe on fixed batches of 16, 16 and 6 samples (the last partial),
from torchvision's initialisation: Adam (everything but `fc` at 2e-4, `fc` at 2e-3, weight decay
1e-4), ExponentialLR 0.9 per epoch, dropout 0 and fixed pairings (both random; tested elsewhere).
Model: the official res18feature at widths 4-8-16-32, 32 px (a 1 x 1 map at the end of the
backbone, as in bench:noisy), feature dimension 16, 10 classes; the baseline shares the initial
backbone. Computed in float64. For steps STEPS the fixture holds the full state before the step
(parameters and BatchNorm buffers, trained by the steps before it), the step's loss and gradients
and the BatchNorm buffers after it; and the eval-mode logits and u of the state after the last
step. Whole trajectories are not compared: training at this size is so sensitive that perturbing
the float64 state by a relative 1e-6 moves the gradients a few steps later by up to 10 %
(`--conditioning` prints it), so two correct float32 implementations part ways after a few steps;
each step from a shared state must agree.
Writes tests/fixtures/train/trajectory.safetensors.
"""
import collections
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import (Res18Feature, WidthResNet, nchw_to_nhwc, train_loss,  # noqa: E402
                           write_safetensors)
from bench_noisy_torch import torchvision_init  # noqa: E402

WIDTHS, INPUT, DIM, CLASSES = [4, 8, 16, 32], 32, 16, 10
BATCHES = [16, 16, 6]  # one epoch, the last batch partial
EPOCHS = 2
STEPS = [3, 6]  # 1-based steps recorded (partial batches; 6: after 5 updates and a schedule step)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "train",
                   "trajectory.safetensors")
SEQ = {"conv1": "features.0", "bn1": "features.1", "layer1": "features.4",
       "layer2": "features.5", "layer3": "features.6", "layer4": "features.7"}


def initial_state(perturb=0.0):
    torch.manual_seed(3)
    rul = Res18Feature(WIDTHS, INPUT, num_classes=CLASSES, drop_rate=0.0, out_dim=DIM)
    torchvision_init(rul.features)
    base = WidthResNet(WIDTHS, num_classes=CLASSES)
    sd = base.state_dict()
    for k in sd:
        if not k.startswith("fc."):
            head, rest = k.split(".", 1)
            sd[k] = rul.state_dict()[SEQ[head] + "." + rest].clone()
    base.load_state_dict(sd)
    if perturb:
        g = torch.Generator().manual_seed(99)
        with torch.no_grad():
            for m in (rul, base):
                for q in m.parameters():
                    q.mul_(1 + perturb * torch.randn(q.shape, generator=g))
    return rul.double(), base.double()


def data():
    g = torch.Generator().manual_seed(11)
    xs, ys, perms = [], [], []
    for _ in range(EPOCHS):
        for n in BATCHES:
            xs.append(torch.randn(n, 3, INPUT, INPUT, generator=g, dtype=torch.float64))
            ys.append(torch.randint(0, CLASSES, (n,), generator=g))
            perms.append(torch.randperm(n, generator=g))
    return xs, ys, perms


def train(model, variant, xs, ys, perms, record):
    """Train EPOCHS epochs; `record(step, before_state, loss, grads, after_buffers)` per step."""
    fc = [p for n, p in model.named_parameters() if n.startswith("fc.")]
    body = [p for n, p in model.named_parameters() if not n.startswith("fc.")]
    opt = torch.optim.Adam([{"params": body}, {"params": fc, "lr": 2e-3}], lr=2e-4,
                           weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)
    k = 0
    for _ in range(EPOCHS):
        model.train()
        for _ in BATCHES:
            before = {n: v.clone() for n, v in model.state_dict().items()}
            x, y, p = xs[k], ys[k], perms[k]
            loss, _ = train_loss(model, variant, x, y, p if variant == "rul" else None)
            opt.zero_grad()
            loss.backward()
            grads = {n: q.grad.detach().clone() for n, q in model.named_parameters()}
            after = {n: v.clone() for n, v in model.named_buffers()}
            k += 1
            record(k, before, loss.detach(), grads, after)
            opt.step()
        sched.step()
    return model


def conditioning():
    """How far a relative 1e-6 perturbation of the initial weights moves the trained state."""
    xs, ys, perms = data()
    for variant in ("rul", "baseline"):
        final = []
        for perturb in (0.0, 1e-6):
            rul, base = initial_state(perturb)
            m = train(rul if variant == "rul" else base, variant, xs, ys, perms,
                      lambda *a: None)
            final.append(m.state_dict())
        a, b = final
        d = max(((b[k] - a[k]).abs().max() / a[k].abs().max().clamp_min(1e-30)).item()
                for k in a if a[k].is_floating_point() and not k.endswith("3.bias"))
        print(f"{variant}: a relative 1e-6 perturbation of the initial weights moves the state "
              f"after {EPOCHS * len(BATCHES)} steps by {d:.1e} (relative, worst tensor)")


def main():
    if "--conditioning" in sys.argv:
        conditioning()
        return
    xs, ys, perms = data()
    out = collections.OrderedDict()
    out["x"] = nchw_to_nhwc(torch.cat(xs)).float()
    out["labels"] = torch.cat(ys).to(torch.int32)
    out["perm"] = torch.cat(perms).to(torch.int32)
    f32 = (lambda v: v.clone() if v.dtype == torch.int64 else v.float())
    for variant in ("rul", "baseline"):
        def record(k, before, loss, grads, after, variant=variant):
            if k not in STEPS:
                return
            for n, v in before.items():
                out[f"{variant}.{k}.before.{n}"] = f32(v)
            out[f"{variant}.{k}.loss"] = loss.float().reshape([1])
            for n, v in grads.items():
                out[f"{variant}.{k}.grad.{n}"] = f32(v)
            for n, v in after.items():
                out[f"{variant}.{k}.after.{n}"] = f32(v)
        rul, base = initial_state()
        m = train(rul if variant == "rul" else base, variant, xs, ys, perms, record)
        for n, v in m.state_dict().items():
            out[f"{variant}.final.{n}"] = f32(v)
        m.eval()
        with torch.no_grad():
            if variant == "rul":
                logits, _, u = m.forward_eval(xs[0])
                out["rul.eval.u"] = u.float()
            else:
                logits = m(xs[0])
        out[f"{variant}.eval.logits"] = logits.float()
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    write_safetensors(OUT, {k: v.contiguous() for k, v in out.items()},
                      {"generator": "tools/make_trajectory_fixture.py", "torch": torch.__version__,
                       "widths": str(WIDTHS), "input": str(INPUT), "dim": str(DIM),
                       "classes": str(CLASSES), "batches": str(BATCHES), "epochs": str(EPOCHS),
                       "steps": str(STEPS), "reference_precision": "float64"})
    print(f"wrote {os.path.normpath(OUT)} ({os.path.getsize(OUT) / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
