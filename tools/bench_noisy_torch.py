#!/usr/bin/python3
"""PyTorch side of `deno task bench:noisy` (dev-time only): Fashion-MNIST with symmetric label
noise, baseline vs RUL, following the official RUL code's semantics (src/main.py, rul.py,
utils.py of zyh-uaiaaaa/Relative-Uncertainty-Learning) on the SAME images, the SAME flipped labels
(read from the JSON that bench/noisy.ts writes) and the same seeds, at the benchmark's small size.

    /usr/bin/python3 tools/bench_noisy_torch.py --labels runs/bench-noisy/labels.json \
        --out runs/bench-noisy/torch [--noises 0.4] [--seeds 0,1,2] [--variants baseline,rul]

Resumable: each finished run goes at once to OUT/<variant>-noise<pct>-seed<s>.json (the names
bench/noisy.ts uses for its own runs), with the setting it ran under; a rerun skips the runs whose
file exists with the same setting and refuses one of another setting.

Model: the official res18feature (ResNet-18 layout `features` = children[:-2], heads `mu` /
`log_var` = BatchNorm2d(no affine, eps 2e-5) → Dropout(0.4) → flatten → Linear → BatchNorm1d,
classifier `fc`) and the baseline (same backbone, global average pooling, Linear), both built by
tools/make_fixtures.py's WidthResNet / Res18Feature (torchvision's BasicBlock; stage widths from
the JSON), initialised as torchvision's ResNet (see torchvision_init), or, when the JSON names an
`init` file, with that pretrained backbone (see load_backbone). Train step (RUL): att = mean(exp(log σ²)) per sample, a random permutation of the batch
(torch.randperm), mixed = att/(att+att[p])·μ + att[p]/(att+att[p])·μ[p], add-up loss
0.5·CE(fc(mixed), y) + 0.5·CE(fc(mixed), y[p]); baseline: cross-entropy. Adam (weight decay 1e-4
added to the gradient), lr 2e-4 for backbone and heads and 2e-3 for the classifier, ExponentialLR
0.9 per epoch, batch 64. Data: the first N train / test images of the IDX files, grey; the official
train transform on the 28 px source image (with probability 0.5 a horizontal flip or Gaussian
noise of variance 30, clipped), transforms.Resize((s, s)) (Pillow bilinear), grey → RGB,
ToTensor, ImageNet Normalize, RandomErasing(scale=(0.02, 0.25)); test: Resize + Normalize.
Measures per epoch the test accuracy, the training-mode accuracy on the flipped samples' noisy
targets, and an eval-mode pass over the training set (no augmentation): the eval-mode fit of the
flipped labels (prediction = noisy label), the accuracy on the clean-labelled samples and, for
RUL, the AUROC of eval-mode u for the flipped labels (u as the score for "flipped",
scikit-learn roc_auc_score).
"""
import argparse
import gzip
import hashlib
import json
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image
from sklearn.metrics import roc_auc_score
from torchvision import transforms

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import Res18Feature, WidthResNet, read_safetensors  # noqa: E402  (the one PyTorch model home)

MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


def _code_sha256():
    """sha256 of this script and of make_fixtures.py (the model), recorded in every result file."""
    h = hashlib.sha256()
    here = os.path.dirname(os.path.abspath(__file__))
    for name in ("bench_noisy_torch.py", "make_fixtures.py"):
        with open(os.path.join(here, name), "rb") as f:
            h.update(f.read())
    return h.hexdigest()


CODE_SHA256 = _code_sha256()


def read_idx(path):
    with gzip.open(path, "rb") as f:
        b = f.read()
    ndim = b[3]
    shape = [int.from_bytes(b[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(b, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def load_split(root, split, n):
    pre = "train" if split == "train" else "t10k"
    x = read_idx(os.path.join(root, f"{pre}-images-idx3-ubyte.gz"))[:n]
    y = read_idx(os.path.join(root, f"{pre}-labels-idx1-ubyte.gz"))[:n].astype(np.int64)
    return x, y


def add_gaussian_noise(img, var=30.0):
    """The official utils.add_gaussian_noise: N(0, var) on the 0-255 scale, clip, to uint8."""
    noise = np.random.normal(0, var ** 0.5, img.shape)
    return np.clip(img.astype(np.float64) + noise, 0, 255).astype(np.uint8)


class Data(torch.utils.data.Dataset):
    def __init__(self, x, y, size, train):
        self.x, self.y, self.train = x, y, train
        tail = [transforms.Resize((size, size)), transforms.Grayscale(num_output_channels=3),
                transforms.ToTensor(), transforms.Normalize(MEAN, STD)]
        if train:
            tail.append(transforms.RandomErasing(scale=(0.02, 0.25)))
        self.tf = transforms.Compose(tail)

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        img = self.x[i]
        if self.train and random.uniform(0, 1) > 0.5:  # as the official RafDataSet
            img = [np.fliplr, add_gaussian_noise][random.randint(0, 1)](img)
        return self.tf(Image.fromarray(np.ascontiguousarray(img), mode="L")), self.y[i], i


def torchvision_init(module):
    """torchvision's ResNet initialisation (its ResNet.__init__): Kaiming-normal fan-out for every
    convolution, batch-norm weight 1 and bias 0, as this project initialises (lib/model/layers.ts).
    The official code does NOT use torchvision here: it builds its own ResNet (src/resnet.py,
    rul.py L16), which has no init code, and always overwrites it with resnet18_msceleb.pth
    (rul.py L17-19); from scratch it would keep nn.Conv2d's default (Kaiming-uniform, a=sqrt(5):
    std 1/sqrt(3 fan_in), 2.4x smaller on a 3x3 64->64 layer). So a from-scratch start has no
    official recipe; this benchmark's choice is torchvision's, the same on both sides. Results of
    this script from before this init was applied (before commit 2f93f84) are not comparable."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d) and m.affine:
            nn.init.constant_(m.weight, 1)
            nn.init.constant_(m.bias, 0)


def build(variant, widths, size, classes):
    if variant == "rul":
        m = Res18Feature(widths, size, num_classes=classes, drop_rate=0.4, out_dim=64)
        torchvision_init(m.features)
        head = list(m.fc.parameters())
    else:
        m = WidthResNet(widths, num_classes=classes)
        torchvision_init(m)
        head = list(m.fc.parameters())
    ids = {id(p) for p in head}
    body = [p for p in m.parameters() if id(p) not in ids]
    return m, body, head


# torchvision's top-level backbone modules and their index in res18feature's `features`
# (nn.Sequential(*list(resnet.children())[:-2]): conv1, bn1, relu, maxpool, layer1-4)
FEATURE_INDEX = {"conv1": 0, "bn1": 1, "layer1": 4, "layer2": 5, "layer3": 6, "layer4": 7}


def load_backbone(model, variant, backbone, path):
    """Copies a pretrained backbone (torchvision names, fc removed: what bench/noisy.ts --init
    and tools/pretrain_fashion.ts use) into the model; the heads and classifier keep their fresh
    initialisation, as this project's initPartial does. Every file tensor must land on a model
    tensor of the same shape and every backbone tensor of the model must be covered."""
    target = model.state_dict()
    fixed = {}
    for k, v in backbone.items():
        top, _, rest = k.partition(".")
        name = k if variant != "rul" else (
            f"features.{FEATURE_INDEX[top]}.{rest}" if top in FEATURE_INDEX else None)
        if name not in target or tuple(target[name].shape) != tuple(v.shape):
            sys.exit(f"{path}: tensor {k} {list(v.shape)} has no place in the {variant} model "
                     f"(as {name}: {list(target[name].shape) if name in target else 'absent'})")
        fixed[name] = v.to(target[name].dtype)
    body = {k for k in target if not k.startswith(("fc.", "mu.", "log_var."))}
    if body - set(fixed):
        sys.exit(f"{path}: the {variant} backbone's {sorted(body - set(fixed))[:3]}... are missing")
    model.load_state_dict(fixed, strict=False)


def evaluate(model, variant, loader):
    """Eval-mode pass: accuracy, predictions and (RUL) u of every sample, in loader order."""
    model.eval()
    correct, n, us, preds = 0, 0, [], []
    with torch.no_grad():
        for x, y, _ in loader:
            if variant == "rul":
                logits, _, u = model.forward_eval(x)
                us.append(u)
            else:
                logits = model(x)
            preds.append(logits.argmax(1))
            correct += (preds[-1] == y).sum().item()
            n += len(y)
    return correct / n, torch.cat(preds).numpy(), (torch.cat(us).numpy() if us else None)


def run(variant, seed, xtr, ytr, yclean, xte, yte, cfg, log, init=None):
    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)
    classes = 10
    model, body, head = build(variant, cfg["widths"], cfg["size"], classes)
    if init is not None:
        load_backbone(model, variant, init, cfg["init"])
    opt = torch.optim.Adam([{"params": body, "lr": 2e-4}, {"params": head, "lr": 2e-3}],
                           weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)
    g = torch.Generator()
    g.manual_seed(seed)
    train = torch.utils.data.DataLoader(Data(xtr, ytr, cfg["size"], True), batch_size=64,
                                        shuffle=True, generator=g, num_workers=0)
    test = torch.utils.data.DataLoader(Data(xte, yte, cfg["size"], False), batch_size=256)
    audit = torch.utils.data.DataLoader(Data(xtr, ytr, cfg["size"], False), batch_size=256)
    flipped = ytr != yclean
    records, t0 = [], time.time()
    for epoch in range(1, cfg["epochs"] + 1):
        model.train()
        hit = np.zeros(len(ytr), dtype=bool)
        loss_sum, seen = 0.0, 0
        for x, y, idx in train:
            if variant == "rul":
                index = torch.randperm(x.size(0))
                out = model.forward_train(x, y, index)
                logits = out[6]
                loss = 0.5 * F.cross_entropy(logits, y) + 0.5 * F.cross_entropy(logits, y[index])
            else:
                logits = model(x)
                loss = F.cross_entropy(logits, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            hit[idx.numpy()] = (logits.argmax(1) == y).numpy()
            loss_sum += loss.item() * len(y)
            seen += len(y)
        sched.step()
        acc, _, _ = evaluate(model, variant, test)
        rec = {"epoch": epoch, "test_acc": acc,
               "train_acc_flipped": float(hit[flipped].mean()) if flipped.any() else None,
               "eval_fit_flipped": None, "eval_fit_clean": None, "auroc_u": None}
        if flipped.any() and not flipped.all():
            # eval-mode audit of the training set (test transform, running statistics, no dropout)
            _, pred, u = evaluate(model, variant, audit)
            fit = pred == ytr
            rec["eval_fit_flipped"] = float(fit[flipped].mean())
            rec["eval_fit_clean"] = float(fit[~flipped].mean())
            if u is not None:
                rec["auroc_u"] = float(roc_auc_score(flipped.astype(int), u))
        records.append(rec)
        au = rec["auroc_u"]
        log(f"torch {variant} seed {seed}: epoch {epoch}/{cfg['epochs']}: train loss "
            f"{loss_sum / max(1, seen):.4f} | test acc {acc:.4f} | fit of flipped: train mode "
            f"{fmt_pct(rec['train_acc_flipped'])} %, eval mode {fmt_pct(rec['eval_fit_flipped'])} %"
            + ("" if au is None else f" | AUROC of u {au:.3f}")
            + f" | {time.time() - t0:.0f} s")
    accs = [r["test_acc"] for r in records]
    return {"variant": variant, "seed": seed, "bestTestAcc": max(accs),
            "bestEpoch": int(np.argmax(accs)) + 1, "lastTestAcc": accs[-1],
            "aurocU": records[-1]["auroc_u"], "seconds": time.time() - t0, "records": records}


def fmt_pct(v):
    return "-" if v is None else f"{100 * v:.1f}"


def run_file_name(variant, noise, seed):
    """`<variant>-noise<pct>-seed<s>.json`, as bench/noisy.ts names its runs."""
    return f"{variant}-noise{round(100 * noise)}-seed{seed}.json"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--labels", required=True, help="JSON written by bench/noisy.ts")
    ap.add_argument("--out", required=True, help="folder of per-run result files")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--noises", help="subset of the JSON's noise rates, e.g. 0.4")
    ap.add_argument("--seeds", help="seeds (default the JSON's), e.g. 0,1,2")
    ap.add_argument("--variants", help="variants (default the JSON's), e.g. baseline,rul")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    with open(a.labels) as f:
        cfg = json.load(f)
    xtr, ytr_clean = load_split(cfg["root"], "train", cfg["trainSize"])
    xte, yte = load_split(cfg["root"], "test", cfg["testSize"])
    if list(ytr_clean) != cfg["cleanLabels"]:
        sys.exit(f"{a.labels}: clean labels differ from the IDX files' first {cfg['trainSize']}")
    setting = {k: cfg[k] for k in ("root", "trainSize", "testSize", "size", "widths", "epochs")}
    setting["init"] = cfg.get("init")
    init, init_desc = None, "torchvision (Kaiming-normal fan-out convs, BN 1/0)"
    if setting["init"]:
        init, meta = read_safetensors(setting["init"])
        with open(setting["init"], "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        init_desc = (f"backbone {setting['init']} (sha256 {digest}, made by "
                     f"{meta.get('script', '?')}); heads and fc fresh, as torch's defaults")
    noises = [float(t) for t in a.noises.split(",")] if a.noises else None
    seeds = [int(t) for t in a.seeds.split(",")] if a.seeds else cfg["seeds"]
    variants = a.variants.split(",") if a.variants else cfg["variants"]
    os.makedirs(a.out, exist_ok=True)
    for noise in cfg["noises"]:
        if noises is not None and not any(abs(n - noise["noise"]) < 1e-9 for n in noises):
            continue
        ytr = np.array(noise["labels"], dtype=np.int64)
        for variant in variants:
            for seed in seeds:
                path = os.path.join(a.out, run_file_name(variant, noise["noise"], seed))
                tag = f"torch {variant} noise {noise['noise']} seed {seed}"
                if os.path.exists(path):
                    with open(path) as f:
                        done = json.load(f)
                    if done.get("setting") != setting:
                        sys.exit(f"{path} holds a run of another setting ({done.get('setting')} "
                                 f"vs {setting}); move it away or use another --out")
                    print(f"{tag}: done ({path}), skipped", flush=True)
                    continue
                r = run(variant, seed, xtr, ytr, ytr_clean, xte, yte, cfg,
                        lambda line: print(line, flush=True), init)
                r["noise"] = noise["noise"]
                r.update(setting=setting, implementation="torch", torch=torch.__version__,
                         threads=a.threads, date=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                         command=" ".join(["/usr/bin/python3"] + sys.argv),
                         # provenance: which twin made the file (a pre-2f93f84 twin initialised
                         # its convolutions differently but wrote the same `setting`)
                         init=init_desc,
                         code_sha256=CODE_SHA256)
                print(f"{tag}: best {r['bestTestAcc']:.4f} (ep {r['bestEpoch']}) last "
                      f"{r['lastTestAcc']:.4f} ({r['seconds']:.0f} s) -> {path}", flush=True)
                with open(path + ".tmp", "w") as f:
                    json.dump(r, f, indent=1)
                os.replace(path + ".tmp", path)


if __name__ == "__main__":
    main()
