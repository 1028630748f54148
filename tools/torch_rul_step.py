#!/usr/bin/env python3
"""PyTorch side of the GPU check (bench/gpu/check.ts): training steps of the official RUL model
(res18feature: ResNet-18 backbone, mu / log_var heads, fc; tools/make_fixtures.py's Res18Feature
at the real widths 64/128/256/512, feature dim 64, dropout 0.4) in fp32, eager mode: forward,
mixup with a random permutation (the official mixup_data), the 0.5/0.5 add-up loss, backward,
Adam. Images per second per (size, batch), and the peak GPU memory PyTorch allocated.
Dev-time tool only; lib/ never needs PyTorch.

Usage: python3 tools/torch_rul_step.py --device cuda --sizes 112,224 --batches 16,64 --steps 5
Prints one JSON line: {"ok": true, "device", "torch", "gpu", "rows": [{"size", "batch",
"img_per_s", "step_s": [...], "peak_mem_mb"} or {"size", "batch", "error"}]} or
{"ok": false, "error"} when PyTorch (or the device) is not available.
"""
import argparse
import json
import os
import sys
import time


def _stub_torchvision() -> None:
    """make_fixtures.py takes BasicBlock and conv1x1 from torchvision; a GPU machine may have
    PyTorch without torchvision. Then register the two (torchvision's definitions: same layers,
    same parameter names) so that the model can still be built."""
    import types
    import torch.nn as nn

    def conv1x1(i, o, stride=1):
        return nn.Conv2d(i, o, kernel_size=1, stride=stride, bias=False)

    class BasicBlock(nn.Module):
        expansion = 1

        def __init__(self, inplanes, planes, stride=1, downsample=None):
            super().__init__()
            self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.downsample = downsample

        def forward(self, x):
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return self.relu(out + (x if self.downsample is None else self.downsample(x)))

    tv = types.ModuleType("torchvision")
    models = types.ModuleType("torchvision.models")
    resnet = types.ModuleType("torchvision.models.resnet")
    resnet.BasicBlock, resnet.conv1x1 = BasicBlock, conv1x1
    tv.models, models.resnet = models, resnet
    sys.modules.update({"torchvision": tv, "torchvision.models": models,
                        "torchvision.models.resnet": resnet})


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--device", default="cuda")
    p.add_argument("--sizes", default="112,224")
    p.add_argument("--batches", default="16,64")
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--threads", type=int, default=0, help="CPU threads (0 = PyTorch's default)")
    p.add_argument("--classes", type=int, default=7)
    a = p.parse_args()
    torchvision_note = None
    try:
        import torch
        try:
            import torchvision  # noqa: F401
        except ImportError:
            _stub_torchvision()
            torchvision_note = "torchvision missing: its BasicBlock/conv1x1 re-declared here"
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from make_fixtures import Res18Feature
    except ImportError as e:
        print(json.dumps({"ok": False, "error": f"PyTorch not available: {e}"}))
        return
    if a.device.startswith("cuda") and not torch.cuda.is_available():
        print(json.dumps({"ok": False, "error": "torch.cuda.is_available() is False"}))
        return
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    dev = torch.device(a.device)
    cuda = dev.type == "cuda"
    # fp32 everywhere, as our engine: no TF32 tensor-core shortcuts in matmul or cuDNN convs.
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True  # PyTorch users' usual setting for fixed shapes
    rows = []
    for size in [int(s) for s in a.sizes.split(",")]:
        for batch in [int(b) for b in a.batches.split(",")]:
            torch.manual_seed(0)
            try:
                model = Res18Feature([64, 128, 256, 512], size, num_classes=a.classes,
                                     drop_rate=0.4, out_dim=64).to(dev).train()
                opt = torch.optim.Adam(model.parameters(), lr=2e-4)
                ce = torch.nn.CrossEntropyLoss()
                x = torch.randn(batch, 3, size, size, device=dev)
                y = torch.randint(0, a.classes, (batch,), device=dev)

                def step() -> None:
                    opt.zero_grad(set_to_none=True)
                    index = torch.randperm(batch, device=dev)
                    _, _, _, _, _, _, logits, y_a, y_b = model.forward_train(x, y, index)
                    loss = 0.5 * ce(logits, y_a) + 0.5 * ce(logits, y_b)
                    loss.backward()
                    opt.step()

                if cuda:
                    torch.cuda.reset_peak_memory_stats(dev)
                for _ in range(a.warmup):
                    step()
                if cuda:
                    torch.cuda.synchronize(dev)
                times = []
                for _ in range(a.steps):
                    t0 = time.perf_counter()
                    step()
                    if cuda:
                        torch.cuda.synchronize(dev)
                    times.append(time.perf_counter() - t0)
                row = {"size": size, "batch": batch, "img_per_s": batch / min(times),
                       "img_per_s_median": batch / sorted(times)[len(times) // 2],
                       "step_s": times}
                if cuda:
                    row["peak_mem_mb"] = torch.cuda.max_memory_allocated(dev) / 2**20
                rows.append(row)
                del model, opt, x, y
            except Exception as e:  # e.g. out of memory: report and go on
                rows.append({"size": size, "batch": batch, "error": str(e).split("\n")[0]})
            if cuda:
                torch.cuda.empty_cache()
    print(json.dumps({
        "ok": True,
        "device": str(dev),
        "gpu": torch.cuda.get_device_name(dev) if cuda else None,
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if cuda else None,
        "threads": torch.get_num_threads(),
        "steps": a.steps,
        "note": torchvision_note,
        "rows": rows,
    }))


if __name__ == "__main__":
    main()
