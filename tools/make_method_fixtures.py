#!/usr/bin/python3
"""Reference fixtures for SCN and EAC (tests/scn, tests/eac): one training step of each method,
computed by PyTorch in float64 with the semantics of the official code, and a few Adam steps.
Dev-time only (Debian's /usr/bin/python3 with python3-torch 1.13); the tests never need Python.

    /usr/bin/python3 tools/make_method_fixtures.py   # (re)build tests/fixtures/methods/*

The modules below are written here from the official code's semantics, not copied from it:

- SCN (kaiwang960112/Self-Cure-Network, src/train.py): Res18Feature (L81-103): `features` =
  resnet18 children[:-1] (through the average pool), `fc` = Linear(512, 7), `alpha` =
  Sequential(Linear(512, 1), Sigmoid), output alpha * fc(x); the step (L216-242): tops =
  int(N * beta), topk of alpha for the high and low groups, diff = low_mean - high_mean + margin_1,
  RR_loss = diff if diff > 0 else 0, loss = CE(outputs, targets) + RR_loss; the relabelling
  (L250-258): softmax of the outputs, Pmax - Pgt > margin_2 takes the predicted label in the
  dataset's label array; Adam(weight_decay=1e-4) with PyTorch's default lr 1e-3 (L194).
- EAC (zyh-uaiaaaa/Erasing-Attention-Consistency, src/model.py L7-41, src/loss.py L4-10,
  src/utils.py L23-32, src/main.py L59-69, L168): `features` = the backbone before pooling,
  `features2` = the average pool, `fc`; the CAMs `hm` = sum over channels of the feature map times
  fc's weight read through `.data`; the flipped images' map resampled with the flip grid
  (grid_sample, bilinear, border, align_corners=True) and compared by mse_loss; loss = CE +
  lam * flip loss, lam = 5; Adam(lr=1e-4, weight_decay=1e-4). The official backbone is
  ResNet-50; here it is ResNet-18 (this project's backbone) at reduced widths 8/16/32/64.

Like tools/make_fixtures.py, the weights/batch seed is chosen so that PyTorch's own float32 run
agrees with the float64 reference (forward < 1e-5, gradients < 1e-4): a well-conditioned case.
Step-level references (from given features, no backbone) are exact float64 of float32 inputs.
"""
import collections
import json
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import WidthResNet, nchw_to_nhwc, randomize_bn, rel_err, write_safetensors  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "methods")
WIDTHS = [8, 16, 32, 64]
CLASSES = 7
ADAM_STEPS = 3
GRAD_NAMES = ["features.0.weight", "features.1.weight", "features.4.0.bn1.bias",
              "features.5.0.conv2.weight", "features.6.0.downsample.0.weight",
              "features.7.1.conv2.weight", "features.7.1.bn2.weight", "fc.weight", "fc.bias"]
BUFFER_NAMES = ["features.1.running_mean", "features.1.running_var",
                "features.7.1.bn2.running_mean", "features.7.1.bn2.running_var"]


def adam_losses(net, sd, dtype, lr, loss_fn):
    """ADAM_STEPS steps of Adam(lr, weight_decay=1e-4) on a fresh `net` loaded from `sd`: the
    trained model and the loss of each step (before its update)."""
    model = net(WIDTHS)
    model.load_state_dict(sd, strict=True)
    model = model.to(dtype).train()
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=1e-4)
    losses = []
    for _ in range(ADAM_STEPS):
        opt.zero_grad()
        loss = loss_fn(model)
        loss.backward()
        opt.step()
        losses.append(loss.detach())
    return model, torch.stack(losses)


# ---------------------------------------------------------------- SCN (official semantics)
class ScnNet(nn.Module):
    def __init__(self, widths, num_classes=CLASSES):
        super().__init__()
        res = WidthResNet(widths)
        self.features = nn.Sequential(*list(res.children())[:-1])  # through avgpool
        self.fc = nn.Linear(widths[3], num_classes)
        self.alpha = nn.Sequential(nn.Linear(widths[3], 1), nn.Sigmoid())

    def forward(self, x):
        x = self.features(x).view(x.size(0), -1)
        a = self.alpha(x)
        return a, a * self.fc(x)


def scn_head_step(pooled, model, targets, beta=0.7, margin_1=0.15):
    """train.py L218-240 from pooled features: alpha, outputs, RR loss, total loss."""
    a = model.alpha(pooled)
    outputs = a * model.fc(pooled)
    n = pooled.size(0)
    tops = int(n * beta)
    _, top_idx = torch.topk(a.squeeze(), tops)
    _, down_idx = torch.topk(a.squeeze(), n - tops, largest=False)
    diff = torch.mean(a[down_idx]) - torch.mean(a[top_idx]) + margin_1
    rr = diff if diff > 0 else 0.0
    ce = F.cross_entropy(outputs, targets)
    loss = ce + rr
    high = torch.zeros(n, dtype=pooled.dtype)
    high[top_idx] = 1
    return a.squeeze(1), outputs, high, (rr if torch.is_tensor(rr) else torch.tensor(0.0)), ce, loss


def scn_relabel(outputs, targets, indexes, table, margin_2=0.2):
    """train.py L251-258: relabel in the dataset's label array (in place)."""
    sm = torch.softmax(outputs, dim=1)
    pmax, predicted = torch.max(sm, 1)
    pgt = torch.gather(sm, 1, targets.view(-1, 1)).squeeze()
    update_idx = (pmax - pgt > margin_2).nonzero().squeeze()
    table[indexes[update_idx].numpy()] = predicted[update_idx].numpy()
    return table


def scn_reference(sd, x, y, dtype):
    model = ScnNet(WIDTHS)
    model.load_state_dict(sd, strict=True)
    model = model.to(dtype).train()
    x = x.to(dtype)
    exp = collections.OrderedDict()
    pooled = model.features(x).view(x.size(0), -1)
    a, outputs, high, rr, ce, loss = scn_head_step(pooled, model, y)
    loss.backward()
    exp["train.pooled"] = pooled.detach()
    exp["train.alpha"], exp["train.logits"] = a.detach(), outputs.detach()
    exp["train.highMask"] = high
    exp["train.rankLoss"] = torch.as_tensor(rr).detach().reshape([]).to(dtype)
    exp["train.ceLoss"], exp["train.loss"] = ce.detach().reshape([]), loss.detach().reshape([])
    params = dict(model.named_parameters())
    for name in GRAD_NAMES + ["alpha.0.weight", "alpha.0.bias"]:
        exp["grad." + name] = params[name].grad.detach().clone()
    buffers = dict(model.named_buffers())
    for name in BUFFER_NAMES:
        exp["after." + name] = buffers[name].detach().clone()
    model.eval()
    with torch.no_grad():
        ea, eo = model(x)
    exp["eval.alpha"], exp["eval.logits"] = ea[:, 0], eo
    # a few Adam steps on the same batch (the official optimiser: lr 1e-3, weight decay 1e-4)
    model, exp["adam.losses"] = adam_losses(
        ScnNet, sd, dtype, 1e-3,
        lambda m: scn_head_step(m.features(x).view(x.size(0), -1), m, y)[5])
    exp["adam.fc.weight"] = model.fc.weight.detach().clone()
    exp["adam.alpha.0.weight"] = model.alpha[0].weight.detach().clone()
    return exp


def scn_step_fixture(gen):
    """Step level: pooled features given (float32 values), float64 reference of everything."""
    n, c = 10, 12
    head = ScnNet([4, 4, 4, c])
    for p in head.fc.parameters():
        p.data = torch.randn(p.shape, generator=gen) * 0.3
    for p in head.alpha.parameters():  # small: the groups' means differ by less than margin_1
        p.data = torch.randn(p.shape, generator=gen) * 0.05
    feats = torch.randn(n, c, generator=gen).float()
    y = torch.randint(0, CLASSES, (n,), generator=gen)
    head = head.double()
    f = feats.double().requires_grad_(True)
    a, outputs, high, rr, ce, loss = scn_head_step(f, head, y)
    loss.backward()
    exp = collections.OrderedDict()
    exp["step.features"], exp["step.labels"] = feats, y.to(torch.int32)
    exp["step.fc.weight"], exp["step.fc.bias"] = head.fc.weight.detach(), head.fc.bias.detach()
    exp["step.alpha.0.weight"] = head.alpha[0].weight.detach()
    exp["step.alpha.0.bias"] = head.alpha[0].bias.detach()
    exp["step.alpha"], exp["step.logits"], exp["step.highMask"] = a.detach(), outputs.detach(), high
    exp["step.rankLoss"] = torch.as_tensor(rr).detach().reshape([]).double()
    exp["step.ceLoss"], exp["step.loss"] = ce.detach().reshape([]), loss.detach().reshape([])
    exp["step.grad.features"] = f.grad.detach()
    for name, p in [("fc.weight", head.fc.weight), ("fc.bias", head.fc.bias),
                    ("alpha.0.weight", head.alpha[0].weight), ("alpha.0.bias", head.alpha[0].bias)]:
        exp["step.grad." + name] = p.grad.detach()
    assert rr != 0.0, "the rank term should be active in the step fixture"
    # the relabelling rule: logits with some confident rows, a label table of 20 samples
    logits = (torch.randn(n, CLASSES, generator=gen) * 2.0).float()
    indexes = torch.randperm(20, generator=gen)[:n]
    table = torch.randint(0, CLASSES, (20,), generator=gen)
    before = table.clone()
    targets = before[indexes]
    after = scn_relabel(logits.double(), targets, indexes, table.numpy().copy())
    exp["relabel.logits"], exp["relabel.indexes"] = logits, indexes.to(torch.int32)
    exp["relabel.before"] = before.to(torch.int32)
    exp["relabel.after"] = torch.as_tensor(after).to(torch.int32)
    changed = int((exp["relabel.after"] != exp["relabel.before"]).sum())
    assert 0 < changed < n, f"relabel fixture should change some but not all labels ({changed})"
    return exp


# ---------------------------------------------------------------- EAC (official semantics)
class EacNet(nn.Module):
    def __init__(self, widths, num_classes=CLASSES):
        super().__init__()
        res = WidthResNet(widths)
        self.features = nn.Sequential(*list(res.children())[:-2])
        self.features2 = nn.Sequential(*list(res.children())[-2:-1])
        self.fc = nn.Linear(widths[3], num_classes)

    def forward(self, x):
        x = self.features(x)
        return eac_head(x, self.fc)


def eac_head(fmap, fc):
    """model.py L25-41 from the feature map: output and the CAMs (fc weight through .data)."""
    output = fc(F.adaptive_avg_pool2d(fmap, 1).flatten(1))
    k, c = fc.weight.shape
    w = fc.weight.data.view(1, k, c, 1, 1)
    hm = (fmap.unsqueeze(1) * w).sum(2)
    return output, hm


def flip_grid(w, h, dtype):
    """utils.py L23-32, the flip grid [1, 2, h, w]."""
    xs = torch.arange(w).view(1, -1).expand(h, -1)
    ys = torch.arange(h).view(-1, 1).expand(-1, w)
    grid = torch.stack([xs, ys], dim=0).to(dtype).unsqueeze(0).clone()
    grid[:, 0] = -(2 * grid[:, 0] / (w - 1) - 1)
    grid[:, 1] = 2 * grid[:, 1] / (h - 1) - 1
    return grid


def ac_loss(hm1, hm2, reduction="mean"):
    """loss.py L4-10: grid_sample of hm2 with the flip grid, MSE against hm1."""
    n, _, h, w = hm1.shape
    grid = flip_grid(w, h, hm1.dtype).expand(n, -1, -1, -1).permute(0, 2, 3, 1)
    hm2f = F.grid_sample(hm2, grid, mode="bilinear", padding_mode="border", align_corners=True)
    return F.mse_loss(hm1, hm2f, reduction=reduction)


def eac_reference(sd, x, y, dtype, lam=5.0):
    model = EacNet(WIDTHS)
    model.load_state_dict(sd, strict=True)
    model = model.to(dtype).train()
    x = x.to(dtype)
    x2 = torch.flip(x, [3])  # dataset.py L61-62 (clean labels): the transformed image, flipped
    exp = collections.OrderedDict()
    out1, hm1 = model(x)
    out2, hm2 = model(x2)
    flip_loss = ac_loss(hm1, hm2)
    per_sample = ac_loss(hm1, hm2, "none").mean(dim=(1, 2, 3))
    ce = F.cross_entropy(out1, y)
    loss = ce + lam * flip_loss
    loss.backward()
    exp["train.logits"] = out1.detach()
    exp["train.cam"], exp["train.camFlipped"] = nchw_to_nhwc(hm1.detach()), nchw_to_nhwc(hm2.detach())
    exp["train.consistency"] = flip_loss.detach().reshape([])
    exp["train.consistencyPerSample"] = per_sample.detach()
    exp["train.ceLoss"], exp["train.loss"] = ce.detach().reshape([]), loss.detach().reshape([])
    params = dict(model.named_parameters())
    for name in GRAD_NAMES:
        exp["grad." + name] = params[name].grad.detach().clone()
    buffers = dict(model.named_buffers())
    for name in BUFFER_NAMES:
        exp["after." + name] = buffers[name].detach().clone()
    model.eval()
    with torch.no_grad():
        exp["eval.logits"] = model(x)[0]
        e1, e2 = model(x)[1], model(x2)[1]
        exp["eval.consistencyPerSample"] = ac_loss(e1, e2, "none").mean(dim=(1, 2, 3))
    def eac_loss(m):
        o1, h1 = m(x)
        return F.cross_entropy(o1, y) + lam * ac_loss(h1, m(x2)[1])

    model, exp["adam.losses"] = adam_losses(EacNet, sd, dtype, 1e-4, eac_loss)
    exp["adam.fc.weight"] = model.fc.weight.detach().clone()
    exp["adam.features.0.weight"] = model.features[0].weight.detach().clone()
    return exp


def eac_step_fixture(gen, lam=5.0):
    """Step level on a non-square map (3 x 5) so that a flip along the wrong axis shows."""
    n, c, h, w = 3, 6, 3, 5
    fc = nn.Linear(c, CLASSES)
    fc.weight.data = torch.randn(CLASSES, c, generator=gen) * 0.5
    fc.bias.data = torch.randn(CLASSES, generator=gen) * 0.1
    f1 = torch.randn(n, c, h, w, generator=gen).float()
    f2 = torch.randn(n, c, h, w, generator=gen).float()
    y = torch.randint(0, CLASSES, (n,), generator=gen)
    fc = fc.double()
    a = f1.double().requires_grad_(True)
    b = f2.double().requires_grad_(True)
    out, hm1 = eac_head(a, fc)
    _, hm2 = eac_head(b, fc)
    cons = ac_loss(hm1, hm2)
    # the flip grid is exactly the horizontal flip (align_corners): checked, then relied upon
    grid = flip_grid(w, h, torch.float64).expand(n, -1, -1, -1).permute(0, 2, 3, 1)
    resampled = F.grid_sample(hm2, grid, mode="bilinear", padding_mode="border", align_corners=True)
    assert torch.equal(resampled, torch.flip(hm2, [3])), "flip grid is not an exact flip"
    per = ac_loss(hm1, hm2, "none").mean(dim=(1, 2, 3))
    ce = F.cross_entropy(out, y)
    loss = ce + lam * cons
    loss.backward()
    exp = collections.OrderedDict()
    exp["step.featureMap"], exp["step.featureMapFlipped"] = nchw_to_nhwc(f1), nchw_to_nhwc(f2)
    exp["step.labels"] = y.to(torch.int32)
    exp["step.fc.weight"], exp["step.fc.bias"] = fc.weight.detach(), fc.bias.detach()
    exp["step.logits"] = out.detach()
    exp["step.cam"], exp["step.camFlipped"] = nchw_to_nhwc(hm1.detach()), nchw_to_nhwc(hm2.detach())
    exp["step.consistency"], exp["step.consistencyPerSample"] = cons.detach().reshape([]), per.detach()
    exp["step.ceLoss"], exp["step.loss"] = ce.detach().reshape([]), loss.detach().reshape([])
    exp["step.grad.featureMap"] = nchw_to_nhwc(a.grad.detach())
    exp["step.grad.featureMapFlipped"] = nchw_to_nhwc(b.grad.detach())
    exp["step.grad.fc.weight"], exp["step.grad.fc.bias"] = fc.weight.grad.detach(), fc.bias.grad.detach()
    return exp


# ---------------------------------------------------------------- driver
def conditioned(build, reference, name, inp):
    """First seed whose torch float32 run agrees with the float64 reference (see module doc)."""
    for seed in range(1, 50):
        torch.manual_seed(seed)
        gen = torch.Generator().manual_seed(seed + 2000)
        model = build()
        randomize_bn(model, gen)
        sd = collections.OrderedDict((k, v.clone()) for k, v in model.state_dict().items())
        x = torch.randn(inp[0], 3, inp[1], inp[1], generator=gen)
        y = torch.randint(0, CLASSES, (inp[0],), generator=gen)
        ref = reference(sd, x, y, torch.float64)
        f32 = reference(sd, x, y, torch.float32)
        errs = {k: rel_err(f32[k], ref[k]) for k in ref if ref[k].is_floating_point()}
        fwd = max(v for k, v in errs.items() if not k.startswith(("grad.", "adam.")))
        grad = max(v for k, v in errs.items() if k.startswith(("grad.", "adam.")))
        print(f"{name} seed {seed}: torch float32 vs float64: forward {fwd:.1e}, "
              f"gradients/Adam {grad:.1e}")
        if fwd < 1e-5 and grad < 1e-4:
            return seed, sd, x, y, ref, fwd, grad
    raise SystemExit(f"{name}: no well-conditioned seed found")


def save(name, sd, x, y, ref, step, meta):
    exp = collections.OrderedDict()
    exp["x"], exp["labels"] = nchw_to_nhwc(x), y.to(torch.int32)
    for k, v in sd.items():
        exp["sd." + k] = v.to(torch.int32) if v.dtype == torch.int64 else v
    for k, v in list(ref.items()) + list(step.items()):
        exp[k] = v.to(torch.int32) if v.dtype in (torch.int64, torch.int32) else v.to(torch.float32)
    write_safetensors(os.path.join(OUT, f"{name}.safetensors"),
                      {k: v.contiguous() for k, v in exp.items()},
                      {"generator": "tools/make_method_fixtures.py", "torch": torch.__version__,
                       "reference_precision": "float64", "widths": json.dumps(WIDTHS),
                       "classes": str(CLASSES), "adam_steps": str(ADAM_STEPS), **meta})


def main():
    os.makedirs(OUT, exist_ok=True)
    seed, sd, x, y, ref, fwd, grad = conditioned(lambda: ScnNet(WIDTHS), scn_reference, "scn", (8, 64))
    step = scn_step_fixture(torch.Generator().manual_seed(7))
    save("scn", sd, x, y, ref, step, {"seed": str(seed), "input": "64", "batch": "8",
                                      "torch_float32_rel_err_forward": f"{fwd:.2e}",
                                      "torch_float32_rel_err_grad": f"{grad:.2e}"})
    print(f"scn: loss {ref['train.loss'].item():.6f}, rank term {ref['train.rankLoss'].item():.6f}, "
          f"relabelled {int((step['relabel.after'] != step['relabel.before']).sum())} of 20")
    seed, sd, x, y, ref, fwd, grad = conditioned(lambda: EacNet(WIDTHS), eac_reference, "eac", (4, 128))
    step = eac_step_fixture(torch.Generator().manual_seed(8))
    save("eac", sd, x, y, ref, step, {"seed": str(seed), "input": "128", "batch": "4",
                                      "torch_float32_rel_err_forward": f"{fwd:.2e}",
                                      "torch_float32_rel_err_grad": f"{grad:.2e}"})
    print(f"eac: loss {ref['train.loss'].item():.6f}, consistency {ref['train.consistency'].item():.6f}")


if __name__ == "__main__":
    main()
