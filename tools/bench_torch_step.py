#!/usr/bin/env python3
"""PyTorch side of bench/train_step.ts: ResNet-18 training steps (forward, cross-entropy, backward,
Adam) on the CPU, images per second, with the process's peak RSS. Dev-time tool only: runs on
Debian's python3-torch (1.13, /usr/bin/python3) and on a current PyTorch 2.x in the virtual
environment that tools/setup_bench_venv.sh makes (.venv-bench/bin/python).

The model is torchvision's ResNet-18 layout (BasicBlock, [2, 2, 2, 2], the same modules and
parameter names) defined here, so that both PyTorch versions run the same Python code without
torchvision (which the CPU-only venv does not install); where torchvision is importable the
parameter names and shapes are checked against torchvision.models.resnet18 ("torchvision_layout"
in the output: true, or null when torchvision is absent).

Usage: python3 tools/bench_torch_step.py --size 112 --batch 16 --threads 2 --steps 3 \
         [--warmup 1] [--memory-format nchw|channels_last]
Prints one JSON line: {"ok": true, "size", "batch", "threads", "steps", "step_s": [...],
"img_per_s", "torch", "memory_format", "peak_rss_mb", "torchvision_layout"} or
{"ok": false, "error": "..."} when torch is missing.
"""
import argparse
import json
import resource
import time


def resnet18(torch, num_classes: int):
    """torchvision's ResNet-18 (v1.5: stride on the 3x3 convolution), without torchvision."""
    nn = torch.nn

    class BasicBlock(nn.Module):
        def __init__(self, cin: int, cout: int, stride: int) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.downsample = None
            if stride != 1 or cin != cout:
                self.downsample = nn.Sequential(
                    nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

        def forward(self, x):
            identity = x if self.downsample is None else self.downsample(x)
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            out += identity
            return self.relu(out)

    class ResNet18(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(3, 2, 1)
            widths = [64, 128, 256, 512]
            cin = 64
            for i, w in enumerate(widths):
                s = 1 if i == 0 else 2
                setattr(self, f"layer{i + 1}", nn.Sequential(BasicBlock(cin, w, s), BasicBlock(w, w, 1)))
                cin = w
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(512, num_classes)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(torch.flatten(self.avgpool(x), 1))

    return ResNet18()


def torchvision_layout(torch, model, num_classes: int):
    """True when `model`'s parameters and buffers match torchvision's resnet18 by name and shape
    (None when torchvision is absent); raises when they differ."""
    try:
        import torchvision
    except Exception:  # absent, or built for another torch
        return None
    ref = torchvision.models.resnet18(num_classes=num_classes).state_dict()
    ours = model.state_dict()
    a = {k: tuple(v.shape) for k, v in ours.items()}
    b = {k: tuple(v.shape) for k, v in ref.items()}
    if a != b:
        raise SystemExit(f"ResNet-18 layout differs from torchvision's: {set(a) ^ set(b)}")
    return True


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--size", type=int, default=112)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--classes", type=int, default=7)
    p.add_argument("--memory-format", choices=["nchw", "channels_last"], default="nchw")
    a = p.parse_args()
    try:
        import torch
    except ImportError as e:  # the TypeScript bench prints its own figures alone
        print(json.dumps({"ok": False, "error": f"PyTorch not available: {e}"}))
        return
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = resnet18(torch, a.classes)
    layout = torchvision_layout(torch, model, a.classes)
    x = torch.randn(a.batch, 3, a.size, a.size)
    if a.memory_format == "channels_last":
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    y = torch.randint(0, a.classes, (a.batch,))

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    for _ in range(a.warmup):
        step()
    times = []
    for _ in range(a.steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    best = min(times)
    print(json.dumps({
        "ok": True,
        "size": a.size,
        "batch": a.batch,
        "threads": torch.get_num_threads(),
        "steps": a.steps,
        "step_s": times,
        "img_per_s": a.batch / best,
        "torch": torch.__version__,
        "memory_format": a.memory_format,
        "peak_rss_mb": peak_rss_mb(),
        "torchvision_layout": layout,
    }))


def peak_rss_mb():
    """This process's peak resident set size in MB (the whole process: interpreter, torch, model,
    activations): Linux's VmHWM, the high-water mark of this program's own memory map, as the
    TypeScript bench reads its own. Not getrusage's ru_maxrss: Linux carries that over from the
    parent across fork + exec, so under the bench (a Deno process of 0.6-1.9 GB) every small row
    reported the parent's size for all three PyTorch sides."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux: best effort


if __name__ == "__main__":
    main()
