#!/usr/bin/env python3
"""Dev-time difficulty check of SynthFER with PyTorch (not a test; not a runtime dependency).

Reads the caches written by tools/data_synthfer_export.ts and trains torchvision's ResNet-18
(from scratch, 7 classes) with Adam for a few epochs, printing test accuracy overall and by the
recorded ambiguity (blend weight) per epoch.

  deno run -A tools/data_synthfer_export.ts /tmp/synth 6000 1500 64
  /usr/bin/python3 tools/data_synthfer_check.py /tmp/synth [epochs=3]
"""
import json
import sys
import time

import numpy as np
import torch
import torchvision

torch.manual_seed(0)
torch.set_num_threads(2)
d = sys.argv[1]
epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 3


def load(base):
    m = json.load(open(base + ".json"))
    x = np.fromfile(base + ".u8", dtype=np.uint8).reshape(m["n"], m["height"], m["width"], m["channels"])
    x = torch.tensor(x).permute(0, 3, 1, 2).float() / 255
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    bw = np.array(m["extra"]["blendWeight"]["values"]) if m.get("extra") else np.zeros(m["n"])
    return (x - mean) / std, torch.tensor(m["labels"]), bw


xtr, ytr, _ = load(d + "/train")
xte, yte, bwte = load(d + "/test")
net = torchvision.models.resnet18(num_classes=7)
opt = torch.optim.Adam(net.parameters(), lr=1e-3)
for ep in range(epochs):
    net.train()
    t0 = time.time()
    perm = torch.randperm(len(ytr))
    for i in range(0, len(ytr), 64):
        idx = perm[i:i + 64]
        loss = torch.nn.functional.cross_entropy(net(xtr[idx]), ytr[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    net.eval()
    with torch.no_grad():
        pred = torch.cat([net(xte[i:i + 256]).argmax(1) for i in range(0, len(yte), 256)])
    ok = (pred == yte).numpy()
    bins = {"pure": bwte == 0, "w<0.4": (bwte > 0) & (bwte < 0.4), "w>=0.4": bwte >= 0.4}
    by = {k: f"{ok[v].mean():.3f} (n={v.sum()})" for k, v in bins.items()}
    print(f"epoch {ep + 1}: test acc {ok.mean():.4f}  by blend weight {by}  ({time.time() - t0:.0f} s)")
