#!/usr/bin/env python3
"""PyTorch side of `deno task bench:epoch --torch` (dev-time only): one training epoch of the
official RUL code's pipeline on the CPU, on the SAME images and labels as this project's epoch
(the prepared-dataset caches bench/epoch.ts writes: OUT/train.{u8,json}, OUT/test.{u8,json}).

What one epoch is, following the official src/main.py and src/dataset.py of
zyh-uaiaaaa/Relative-Uncertainty-Learning:
  - data: a Dataset over the in-memory RGB images (the official RafDataSet reads JPEGs with
    OpenCV; both sides here start from decoded pixels in memory); in training, with probability
    0.5 (random.uniform > 0.5) a horizontal flip or Gaussian noise of variance 30 (the official
    utils.add_gaussian_noise), then ToPILImage, Resize((s, s)), ToTensor, ImageNet Normalize,
    RandomErasing(scale=(0.02, 0.25)); test: the same without augmentation and erasing;
    torch.utils.data.DataLoader, shuffle, batch 64, num_workers 4 (the official defaults);
  - model: res18feature (tools/make_fixtures.py's Res18Feature, ResNet-18 widths 64-512, feature
    dim 64, dropout 0.4); RUL step: u = mean(exp(log sigma^2)), torch.randperm, the official
    mixup, 0.5 CE(y_a) + 0.5 CE(y_b); baseline: tools/make_fixtures.py's WidthResNet + CE;
  - Adam (lr 2e-4, classifier 2e-3, weight decay 1e-4), ExponentialLR(0.9) step, then the test
    evaluation (eval mode) and a torch.save of the state dict, as every official epoch.

torchvision is used where it is importable (Debian's 1.13); a current PyTorch in the bench venv
has no torchvision (the local package index has none), so its four transforms are re-declared here
(`OwnTransforms`: torchvision 0.14's Resize on PIL, ToTensor, Normalize and RandomErasing, the same
arithmetic and the same torch random draws); `--check-transforms` compares the two on this
machine's torchvision, sample by sample, from the same seeds (exit 1 on any difference).

Usage: python tools/bench_torch_epoch.py --data DIR [--size 224] [--batch 64] [--variant rul]
         [--widths 64,128,256,512] [--workers 4] [--threads 0] [--progress 20]
         [--memory-format nchw|channels_last]
       python tools/bench_torch_epoch.py --data DIR --check-transforms [--size 224]
Prints progress lines on stderr and one JSON object as the LAST stdout line.
"""
import argparse
import json
import math
import os
import random
import resource
import sys
import tempfile
import time

import numpy as np
import torch
from PIL import Image

MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]


def load_cache(base):
    """A prepared-dataset cache (lib/data/cache.ts): pixels N x H x W x C uint8 and its manifest."""
    with open(base + ".json") as f:
        m = json.load(f)
    x = np.fromfile(base + ".u8", dtype=np.uint8)
    if x.size != m["n"] * m["height"] * m["width"] * m["channels"] or m["channels"] != 3:
        sys.exit(f"{base}.u8: {x.size} bytes do not hold {m['n']} RGB images of "
                 f"{m['height']} x {m['width']} (manifest {base}.json)")
    return (x.reshape(m["n"], m["height"], m["width"], 3), np.asarray(m["labels"], dtype=np.int64),
            len(m["classNames"]))


def add_gaussian_noise(img, var=30.0):
    """The official utils.add_gaussian_noise: N(0, var) on the 0-255 scale, clip, to uint8."""
    noise = np.random.normal(0, var ** 0.5, img.shape)
    return np.clip(img.astype(np.float64) + noise, 0, 255).astype(np.uint8)


class OwnTransforms:
    """torchvision 0.14's ToPILImage -> Resize((s, s)) -> ToTensor -> Normalize [-> RandomErasing],
    for a PyTorch without torchvision. Written out because the venv cannot install torchvision;
    `--check-transforms` holds it to torchvision's output where torchvision exists."""

    def __init__(self, size, train):
        self.size, self.train = size, train
        self.mean = torch.tensor(MEAN)[:, None, None]
        self.std = torch.tensor(STD)[:, None, None]

    def erase(self, img, scale=(0.02, 0.25), ratio=(0.3, 3.3)):
        """RandomErasing(p=0.5, value=0): torchvision's get_params, draw for draw."""
        if torch.rand(1) >= 0.5:
            return img
        c, h_img, w_img = img.shape
        area = h_img * w_img
        log_ratio = torch.log(torch.tensor(ratio))
        for _ in range(10):
            erase_area = area * torch.empty(1).uniform_(scale[0], scale[1]).item()
            aspect = torch.exp(torch.empty(1).uniform_(log_ratio[0], log_ratio[1])).item()
            h = int(round(math.sqrt(erase_area * aspect)))
            w = int(round(math.sqrt(erase_area / aspect)))
            if not (h < h_img and w < w_img):
                continue
            i = torch.randint(0, h_img - h + 1, size=(1,)).item()
            j = torch.randint(0, w_img - w + 1, size=(1,)).item()
            img = img.clone()
            img[..., i:i + h, j:j + w] = 0.0
            return img
        return img

    def __call__(self, arr):
        pic = Image.fromarray(arr).resize((self.size, self.size), Image.BILINEAR)
        t = torch.from_numpy(np.array(pic, np.uint8, copy=True)).permute(2, 0, 1).contiguous()
        t = (t.float().div(255) - self.mean) / self.std
        return self.erase(t) if self.train else t


def torchvision_transforms(size, train):
    from torchvision import transforms
    steps = [transforms.ToPILImage(), transforms.Resize((size, size)), transforms.ToTensor(),
             transforms.Normalize(mean=MEAN, std=STD)]
    if train:
        steps.append(transforms.RandomErasing(scale=(0.02, 0.25)))
    return transforms.Compose(steps)


def has_torchvision():
    try:
        import torchvision  # noqa: F401
        return True
    except ImportError:
        return False


class Data(torch.utils.data.Dataset):
    """The official RafDataSet's __getitem__ over in-memory RGB images."""

    def __init__(self, x, y, tf, train):
        self.x, self.y, self.tf, self.train = x, y, tf, train

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        img = self.x[i]
        if self.train and random.uniform(0, 1) > 0.5:
            img = [np.fliplr, add_gaussian_noise][random.randint(0, 1)](img)
        return self.tf(np.ascontiguousarray(img)), int(self.y[i])


def check_transforms(x, size, n=64):
    """Own vs torchvision transforms on the first n images, train and test, same seeds."""
    if not has_torchvision():
        sys.exit("--check-transforms needs torchvision")
    worst = 0.0
    for train in (False, True):
        own, ref = OwnTransforms(size, train), torchvision_transforms(size, train)
        for i in range(min(n, len(x))):
            torch.manual_seed(i)
            a = own(x[i])
            torch.manual_seed(i)
            b = ref(x[i])
            worst = max(worst, float((a - b).abs().max()))
    print(json.dumps({"check": "transforms", "images": min(n, len(x)), "max_abs_diff": worst}))
    sys.exit(0 if worst == 0.0 else 1)


def peak_rss_mb():
    """VmHWM of this process (MB): the main process, where the model and its step live."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return None


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--variant", choices=["rul", "baseline"], default="rul")
    p.add_argument("--widths", default="64,128,256,512")
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--threads", type=int, default=0, help="0: PyTorch's default")
    p.add_argument("--progress", type=int, default=20, help="a progress line every N steps")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--memory-format", choices=["nchw", "channels_last"], default="nchw",
                   help="channels_last: model and batches in NHWC (the official code uses NCHW)")
    p.add_argument("--check-transforms", action="store_true")
    a = p.parse_args()
    xtr, ytr, classes = load_cache(os.path.join(a.data, "train"))
    if a.check_transforms:
        check_transforms(xtr, a.size)
    xte, yte, _ = load_cache(os.path.join(a.data, "test"))
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    np.random.seed(a.seed)
    random.seed(a.seed)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    tv = has_torchvision()
    if not tv:
        from torch_rul_step import _stub_torchvision
        _stub_torchvision()
    from make_fixtures import Res18Feature, WidthResNet, train_loss  # the one PyTorch model home
    make_tf = torchvision_transforms if tv else OwnTransforms
    widths = [int(w) for w in a.widths.split(",")]
    if a.variant == "rul":
        model = Res18Feature(widths, a.size, num_classes=classes, drop_rate=0.4, out_dim=64)
    else:
        model = WidthResNet(widths, num_classes=classes)
    head = {id(q) for q in model.fc.parameters()}
    opt = torch.optim.Adam([
        {"params": [q for q in model.parameters() if id(q) not in head], "lr": 2e-4},
        {"params": list(model.fc.parameters()), "lr": 2e-3}], weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)
    train = torch.utils.data.DataLoader(Data(xtr, ytr, make_tf(a.size, True), True),
                                        batch_size=a.batch, shuffle=True, num_workers=a.workers)
    test = torch.utils.data.DataLoader(Data(xte, yte, make_tf(a.size, False), False),
                                       batch_size=a.batch, shuffle=False, num_workers=a.workers)
    steps = len(train)
    fmt = torch.channels_last if a.memory_format == "channels_last" else torch.contiguous_format
    model = model.to(memory_format=fmt)
    model.train()
    t0 = time.perf_counter()
    seen, loss_sum = 0, 0.0
    for k, (x, y) in enumerate(train, 1):
        x = x.contiguous(memory_format=fmt)
        index = torch.randperm(x.size(0)) if a.variant == "rul" else None
        loss, _ = train_loss(model, a.variant, x, y, index)
        opt.zero_grad()
        loss.backward()
        opt.step()
        seen += len(y)
        loss_sum += loss.item() * len(y)
        if k % a.progress == 0 or k == steps:
            dt = time.perf_counter() - t0
            print(f"torch epoch: step {k}/{steps} | {seen}/{len(ytr)} images | "
                  f"{seen / dt:.2f} img/s | {dt:.0f} s | loss {loss_sum / seen:.4f}",
                  file=sys.stderr, flush=True)
    train_s = time.perf_counter() - t0
    sched.step()
    t1 = time.perf_counter()
    model.eval()
    correct = 0
    with torch.no_grad():
        for x, y in test:
            x = x.contiguous(memory_format=fmt)
            logits = model.forward_eval(x)[0] if a.variant == "rul" else model(x)
            correct += int((logits.argmax(1) == y).sum())
    eval_s = time.perf_counter() - t1
    t2 = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        torch.save({"model_state_dict": model.state_dict(),
                    "optimizer_state_dict": opt.state_dict()}, os.path.join(d, "epoch1.pth"))
    save_s = time.perf_counter() - t2
    print(json.dumps({
        "ok": True, "torch": torch.__version__, "threads": torch.get_num_threads(),
        "workers": a.workers, "memoryFormat": a.memory_format,
        "transforms": "torchvision" if tv else "own (torchvision absent)",
        "variant": a.variant, "size": a.size, "batch": a.batch, "widths": widths,
        "images": int(len(ytr)), "testImages": int(len(yte)), "steps": steps,
        "trainSeconds": train_s, "imagesPerSec": len(ytr) / train_s, "evalSeconds": eval_s,
        "saveSeconds": save_s, "epochSeconds": time.perf_counter() - t0,
        "trainLabelCounts": np.bincount(ytr, minlength=classes).tolist(),
        "trainPixelSum": int(xtr.sum(dtype=np.uint64)),
        "trainLoss": loss_sum / seen, "testAcc": correct / len(yte),
        "peakRssMb": peak_rss_mb(),
        "workerPeakRssMb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }))


if __name__ == "__main__":
    main()
