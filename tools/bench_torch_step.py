#!/usr/bin/env python3
"""PyTorch side of bench/train_step.ts: torchvision ResNet-18 training steps (forward, cross-entropy,
backward, Adam) on the CPU, images per second. Dev-time tool only (Debian's python3-torch).

Usage: /usr/bin/python3 tools/bench_torch_step.py --size 112 --batch 16 --threads 2 --steps 3
Prints one JSON line: {"ok": true, "size", "batch", "threads", "steps", "step_s": [...],
"img_per_s", "torch"} or {"ok": false, "error": "..."} when torch is missing.
"""
import argparse
import json
import time


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--size", type=int, default=112)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--classes", type=int, default=7)
    a = p.parse_args()
    try:
        import torch
        import torchvision
    except ImportError as e:  # the TypeScript bench prints its own figures alone
        print(json.dumps({"ok": False, "error": f"PyTorch not available: {e}"}))
        return
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = torchvision.models.resnet18(num_classes=a.classes)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    x = torch.randn(a.batch, 3, a.size, a.size)
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
    }))


if __name__ == "__main__":
    main()
