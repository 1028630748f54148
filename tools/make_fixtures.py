#!/usr/bin/python3
"""Reference fixtures for tests/model, tests/rul and tests/io (run with Debian's /usr/bin/python3,
which has python3-torch; a dev-time tool only, the tests never need Python).

    /usr/bin/python3 tools/make_fixtures.py            # (re)build tests/fixtures/model/*
    /usr/bin/python3 tools/make_fixtures.py check-safetensors FILE.safetensors
        # interoperability: read one of OUR safetensors checkpoints with a pure-Python reader,
        # load it strictly into the official model structure with torch, and print a summary
        # (with the fixture batch when the checkpoint has the fixture's shapes)

What is built (all under tests/fixtures/model/, about 2 MB in total):

- rul_small.pth: the official RUL model structure (torchvision ResNet-18 layout, children[:-2]
  as `features`, the two heads `mu` / `log_var`, classifier `fc`), saved by torch.save in the
  zip format as {"state_dict": ..., "epoch": 7}. To keep the fixture small the four ResNet stages
  have widths 8/16/32/64 instead of 64/128/256/512 (every layer, stride, padding and name is
  the real ResNet-18's; the same code builds the real widths, checked below against
  torchvision.models.resnet18), input 64 px, batch 4, feature dim 16, 7 classes.
  Dropout is 0 in this fixture: PyTorch's dropout mask comes from its own RNG, which TF.js
  cannot reproduce; with p = 0 the train-mode forward is deterministic and every other op of
  the train step is compared exactly. All BatchNorm tensors (gamma, beta, running stats) are
  random so train- and eval-mode BN are both exercised.
- rul_small_legacy.pth: the same object in the legacy (pre-1.6, non-zip) format.
- rul_small_expected.safetensors: the batch (NHWC), labels, the fixed pairing, and PyTorch's
  outputs computed in float64 (the seed is chosen so that PyTorch's own float32 run agrees with
  them to < 1e-5 forward / < 1e-4 gradients, i.e. the case is well-conditioned; see
  rul_fixture): eval-mode logits/mu/u, train-mode backbone features, mu, logVar, u, w, mixed,
  logits, add-up loss (0.5/0.5 and w-weighted), gradients of the first conv, a BN, the sigma
  head's linear, mu's linear and the classifier, BN running stats after the step; plus the
  baseline (same backbone, avg pool, Linear 64->7) fc weights, eval logits, train loss, grads.
  Written with the tiny safetensors writer below (no safetensors package needed).
- resnet18_pattern.pth.gz: a full-size torchvision resnet18 state dict (bare, zip format) whose
  values follow a formula the test recomputes, gzipped (the pattern compresses ~100x).
- msceleb_pattern_legacy.pth.gz: the same tensors in the layout of resnet18_msceleb.pth
  ({"state_dict": ..., "epoch", "arch", "best_prec1" (a numpy scalar)}) in the legacy format.
- misc_tensors.pth: float16, bfloat16, float64, int64, bool, transposed (non-contiguous) and
  offset views of a shared storage, nested dicts, a DataParallel `module.` prefix.
- malicious_zip.pth / malicious_legacy.pth / malicious_eval.pkl: pickles calling os.system /
  builtins.eval via GLOBAL/STACK_GLOBAL + REDUCE (must be refused, never executed).
"""
import collections
import gzip
import io
import json
import os
import struct
import sys
import zipfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torchvision.models.resnet import BasicBlock, conv1x1

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "model")
WIDTHS = [8, 16, 32, 64]
INPUT = 64
BATCH = 4
DIM = 16
CLASSES = 7
PERM = [2, 0, 3, 1]
LABELS = [0, 3, 3, 5]


class WidthResNet(nn.Module):
    """torchvision's ResNet-18 with configurable stage widths (same names and structure)."""

    def __init__(self, widths, num_classes=1000):
        super().__init__()
        self.inplanes = widths[0]
        self.conv1 = nn.Conv2d(3, widths[0], kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(widths[0], 1)
        self.layer2 = self._make_layer(widths[1], 2)
        self.layer3 = self._make_layer(widths[2], 2)
        self.layer4 = self._make_layer(widths[3], 2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(widths[3], num_classes)

    def _make_layer(self, planes, stride):
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes, stride), nn.BatchNorm2d(planes))
        layers = [BasicBlock(self.inplanes, planes, stride, downsample), BasicBlock(planes, planes)]
        self.inplanes = planes
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class Flatten(nn.Module):
    def forward(self, x):
        return x.reshape(x.size(0), -1)  # reshape: also for a channels_last map (bench_torch_epoch)


def mixup_data(x, y, att, index):
    """The official mixup_data with the permutation passed in instead of torch.randperm."""
    att1 = att / (att + att[index])
    att2 = att[index] / (att + att[index])
    mixed_x = att1 * x + att2 * x[index, :]
    y_a, y_b = y, y[index]
    return mixed_x, y_a, y_b, att1


class Res18Feature(nn.Module):
    """The official res18feature (backbone children[:-2], mu / log_var heads, fc)."""

    def __init__(self, widths, input_size, num_classes=7, drop_rate=0.4, out_dim=64):
        super().__init__()
        res18 = WidthResNet(widths)
        self.features = nn.Sequential(*list(res18.children())[:-2])
        s = input_size
        for k, st, p in [(7, 2, 3), (3, 2, 1), (3, 2, 1), (3, 2, 1), (3, 2, 1)]:
            s = (s + 2 * p - k) // st + 1
        c = widths[3]

        def head():
            return nn.Sequential(
                nn.BatchNorm2d(c, eps=2e-5, affine=False),
                nn.Dropout(p=drop_rate),
                Flatten(),
                nn.Linear(c * s * s, out_dim),
                nn.BatchNorm1d(out_dim, eps=2e-5))

        self.mu = head()
        self.log_var = head()
        self.fc = nn.Linear(out_dim, num_classes)

    def forward_train(self, x, target, index):
        f = self.features(x)
        mu = self.mu(f)
        logvar = self.log_var(f)
        u = logvar.exp().mean(dim=1, keepdim=True)
        mixed, y_a, y_b, w = mixup_data(mu, target, u, index)
        return f, mu, logvar, u, w, mixed, self.fc(mixed), y_a, y_b

    def forward_eval(self, x):
        f = self.features(x)
        mu = self.mu(f)
        return self.fc(mu), mu, self.log_var(f).exp().mean(dim=1)


def train_loss(model, variant, x, y, index=None):
    """One training forward and its loss: RUL (the official add-up loss 0.5 CE(fc(mixed), y) +
    0.5 CE(fc(mixed), y[index]) with the pairing `index`) or the baseline's CE. (loss, logits)."""
    if variant == "rul":
        logits = model.forward_train(x, y, index)[6]
        return 0.5 * F.cross_entropy(logits, y) + 0.5 * F.cross_entropy(logits, y[index]), logits
    logits = model(x)
    return F.cross_entropy(logits, y), logits


def randomize_bn(model, gen):
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            n = m.num_features
            if m.affine:
                m.weight.data = torch.rand(n, generator=gen) + 0.5
                m.bias.data = torch.randn(n, generator=gen) * 0.1
            m.running_mean.data = torch.randn(n, generator=gen) * 0.1
            m.running_var.data = torch.rand(n, generator=gen) + 0.5
            m.num_batches_tracked.data = torch.tensor(3, dtype=torch.long)


# ---------------------------------------------------------------- tiny safetensors reader/writer
ST_DTYPES = {torch.float32: "F32", torch.int32: "I32", torch.int64: "I64", torch.float16: "F16",
             torch.bool: "BOOL", torch.float64: "F64", torch.uint8: "U8"}
ST_TORCH = {v: k for k, v in ST_DTYPES.items()}


def write_safetensors(path, tensors, metadata=None):
    header, blobs, off = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, t in tensors.items():
        t = t.detach().contiguous()
        b = t.numpy().tobytes() if t.dtype != torch.bool else t.to(torch.uint8).numpy().tobytes()
        header[name] = {"dtype": ST_DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
    os.replace(tmp, path)


def read_safetensors(path):
    """Pure-Python safetensors reader -> (OrderedDict of torch tensors, metadata)."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    base = 8 + n
    out = collections.OrderedDict()
    for name, e in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        a, b = e["data_offsets"]
        dt = ST_TORCH[e["dtype"]]
        buf = bytearray(data[base + a:base + b])
        t = torch.frombuffer(buf, dtype=dt if dt != torch.bool else torch.uint8) if b > a else \
            torch.empty(0, dtype=dt)
        if dt == torch.bool:
            t = t.to(torch.bool)
        out[name] = t.reshape(e["shape"]).clone()
    return out, meta


# ---------------------------------------------------------------- fixtures
def nchw_to_nhwc(t):
    return t.permute(0, 2, 3, 1).contiguous()


GRAD_NAMES = ["features.0.weight", "features.1.weight", "features.4.0.bn1.weight",
              "features.4.0.bn1.bias", "features.5.0.conv2.weight",
              "features.6.0.downsample.0.weight", "log_var.3.weight", "log_var.4.weight",
              "log_var.4.bias", "mu.3.weight", "fc.weight", "fc.bias"]
BUFFER_NAMES = ["features.1.running_mean", "features.1.running_var",
                "features.7.1.bn2.running_var", "mu.0.running_mean", "mu.0.running_var",
                "log_var.4.running_var", "features.1.num_batches_tracked"]
SEQ = {"conv1": "features.0", "bn1": "features.1", "layer1": "features.4",
       "layer2": "features.5", "layer3": "features.6", "layer4": "features.7"}


def reference_outputs(sd, x, dtype):
    """Everything the tests compare, computed by the official structure in `dtype`."""
    model = Res18Feature(WIDTHS, INPUT, num_classes=CLASSES, drop_rate=0.0, out_dim=DIM)
    model.load_state_dict(sd, strict=True)
    model = model.to(dtype)
    x = x.to(dtype)
    y = torch.tensor(LABELS)
    index = torch.tensor(PERM)
    exp = collections.OrderedDict()
    model.eval()
    with torch.no_grad():
        logits, mu, u = model.forward_eval(x)
    exp["eval.logits"], exp["eval.mu"], exp["eval.u"] = logits, mu, u

    model.train()
    f, mu, logvar, u, w, mixed, out, y_a, y_b = model.forward_train(x, y, index)
    ce = nn.CrossEntropyLoss()
    loss = 0.5 * ce(out, y_a) + 0.5 * ce(out, y_b)  # official mixup_criterion
    ce_each = nn.CrossEntropyLoss(reduction="none")
    loss_w = (w[:, 0] * ce_each(out, y_a) + (1 - w[:, 0]) * ce_each(out, y_b)).mean()
    loss.backward()
    exp["train.features"] = nchw_to_nhwc(f.detach())
    exp["train.mu"], exp["train.logVar"] = mu.detach(), logvar.detach()
    exp["train.u"], exp["train.w"] = u.detach()[:, 0], w.detach()[:, 0]
    exp["train.mixed"], exp["train.logits"] = mixed.detach(), out.detach()
    exp["train.loss"] = loss.detach().reshape([])
    exp["train.loss_w"] = loss_w.detach().reshape([])
    params = dict(model.named_parameters())
    # (biases of the Linear layers in front of a train-mode BatchNorm1d get an exactly-zero
    # gradient in theory, i.e. rounding noise in practice, so they are not compared)
    for name in GRAD_NAMES:
        exp["grad." + name] = params[name].grad.detach().clone()
    buffers = dict(model.named_buffers())
    for name in BUFFER_NAMES:
        exp["after." + name] = buffers[name].detach().clone()

    # baseline: same backbone + global average pool + Linear(64 -> 7), plain cross-entropy
    torch.manual_seed(5)
    base = WidthResNet(WIDTHS, num_classes=CLASSES)
    bsd = base.state_dict()
    for k in bsd:
        if not k.startswith("fc."):
            head, rest = k.split(".", 1)
            bsd[k] = sd[SEQ[head] + "." + rest].clone()
    base.load_state_dict(bsd, strict=True)
    base = base.to(dtype)
    exp["baseline.fc.weight"] = base.fc.weight.detach().clone()
    exp["baseline.fc.bias"] = base.fc.bias.detach().clone()
    base.eval()
    with torch.no_grad():
        exp["baseline.eval.logits"] = base(x)
    base.train()
    bl = ce(base(x), y)
    bl.backward()
    exp["baseline.train.loss"] = bl.detach().reshape([])
    exp["baseline.grad.conv1.weight"] = base.conv1.weight.grad.detach().clone()
    exp["baseline.grad.fc.weight"] = base.fc.weight.grad.detach().clone()
    return exp


def rel_err(a, b):
    a, b = a.double(), b.double()
    return ((a - b).abs().max() / b.abs().max().clamp_min(1e-30)).item()


def rul_fixture():
    """The reference is computed in float64 (the exact values up to 1e-15); the weights/batch
    seed is chosen so that PyTorch's own float32 computation agrees with it to < 1e-5 (forward)
    and < 1e-4 (gradients): a random net can be ill-conditioned (a ReLU input or a max-pool
    tie within rounding of zero flips a mask), and then any two float32 implementations differ
    by more than the test tolerance whatever their quality."""
    for seed in range(1, 50):
        torch.manual_seed(seed)
        gen = torch.Generator().manual_seed(seed + 1000)
        model = Res18Feature(WIDTHS, INPUT, num_classes=CLASSES, drop_rate=0.0, out_dim=DIM)
        randomize_bn(model, gen)
        sd = collections.OrderedDict((k, v.clone()) for k, v in model.state_dict().items())
        x = torch.randn(BATCH, 3, INPUT, INPUT, generator=gen)
        ref = reference_outputs(sd, x, torch.float64)
        f32 = reference_outputs(sd, x, torch.float32)
        errs = {k: rel_err(f32[k], ref[k]) for k in ref if ref[k].is_floating_point()}
        fwd = max(v for k, v in errs.items() if "grad." not in k)
        grad = max(v for k, v in errs.items() if "grad." in k)
        print(f"seed {seed}: torch float32 vs float64: forward {fwd:.1e}, gradients {grad:.1e}")
        if fwd < 1e-5 and grad < 1e-4:
            break
    else:
        raise SystemExit("no well-conditioned seed found")

    torch.save({"state_dict": sd, "epoch": 7}, os.path.join(OUT, "rul_small.pth"))
    torch.save({"state_dict": sd, "epoch": 7}, os.path.join(OUT, "rul_small_legacy.pth"),
               _use_new_zipfile_serialization=False)
    exp = collections.OrderedDict()
    exp["x"] = nchw_to_nhwc(x)
    exp["labels"] = torch.tensor(LABELS, dtype=torch.int32)
    exp["perm"] = torch.tensor(PERM, dtype=torch.int32)
    for k, v in ref.items():
        exp[k] = v.to(torch.int32) if v.dtype == torch.int64 else v.to(torch.float32)
    write_safetensors(os.path.join(OUT, "rul_small_expected.safetensors"),
                      {k: v.contiguous() for k, v in exp.items()},
                      {"generator": "tools/make_fixtures.py", "torch": torch.__version__,
                       "reference_precision": "float64", "seed": str(seed),
                       "torch_float32_rel_err_forward": f"{fwd:.2e}",
                       "torch_float32_rel_err_grad": f"{grad:.2e}",
                       "widths": json.dumps(WIDTHS), "input": str(INPUT), "dim": str(DIM),
                       "classes": str(CLASSES), "dropout": "0"})
    print(f"rul fixture (seed {seed}): loss {ref['train.loss'].item():.6f}, "
          f"loss_w {ref['train.loss_w'].item():.6f}, "
          f"eval logits |max| {ref['eval.logits'].abs().max().item():.3f}")


def pattern_state_dict():
    """Full-size torchvision resnet18 state dict with formula values (see resnet18_pattern)."""
    sd = torchvision.models.resnet18().state_dict()
    ref = WidthResNet([64, 128, 256, 512]).state_dict()
    assert [(k, v.shape) for k, v in sd.items()] == [(k, v.shape) for k, v in ref.items()], \
        "WidthResNet does not match torchvision's resnet18 layout"
    out = collections.OrderedDict()
    for ti, (k, v) in enumerate(sd.items()):
        if v.dtype == torch.int64:
            out[k] = torch.tensor(ti, dtype=torch.int64)
            continue
        i = torch.arange(v.numel(), dtype=torch.int64)
        # value = ((37 i + 11 t) mod 251 - 125) / 256: exact in float32, period 251 (compressible)
        out[k] = (((i * 37 + ti * 11) % 251 - 125).to(torch.float32) / 256).reshape(v.shape)
    return out


def gz_save(obj, name, legacy=False):
    buf = io.BytesIO()
    torch.save(obj, buf, _use_new_zipfile_serialization=not legacy)
    raw = buf.getvalue()
    with gzip.GzipFile(os.path.join(OUT, name), "wb", compresslevel=9, mtime=0) as f:
        f.write(raw)
    print(f"{name}: {len(raw) / 1e6:.1f} MB raw, {os.path.getsize(os.path.join(OUT, name)) / 1e6:.2f} MB gz")


def misc_fixture():
    base = torch.arange(20, dtype=torch.float32) / 8  # shared storage
    inner = collections.OrderedDict()
    inner["module.half"] = (torch.arange(12, dtype=torch.float32).reshape(3, 4) / 4 - 1).half()
    inner["module.bf16"] = (torch.arange(6, dtype=torch.float32) / 2 - 1).bfloat16()
    inner["module.double"] = torch.arange(5, dtype=torch.float64) / 3
    inner["module.long"] = torch.tensor([[-3, 0, 7], [2 ** 31 - 1, -(2 ** 31), 5]], dtype=torch.int64)
    inner["module.flag"] = torch.tensor([True, False, True])
    inner["module.transposed"] = torch.arange(6, dtype=torch.float32).reshape(2, 3).t()
    inner["module.view_a"] = base[2:8].reshape(2, 3)
    inner["module.view_b"] = base[10:20:3]
    inner["module.scalar"] = torch.tensor(2.5)
    obj = {"meta": {"name": "misc", "nested": {"list": [1, 2.5, "x", None, True], "big": 2 ** 70}},
           "weights": inner}
    torch.save(obj, os.path.join(OUT, "misc_tensors.pth"))
    torch.save(obj, os.path.join(OUT, "misc_tensors_legacy.pth"), _use_new_zipfile_serialization=False)


def malicious_fixtures():
    # protocol 2 pickle: GLOBAL 'os system' + REDUCE ("echo pwned") -> must be refused
    evil = b"\x80\x02cos\nsystem\nq\x00X\n\x00\x00\x00echo pwnedq\x01\x85q\x02Rq\x03."
    with zipfile.ZipFile(os.path.join(OUT, "malicious_zip.pth"), "w") as z:
        z.writestr("archive/data.pkl", evil)
        z.writestr("archive/version", "3\n")
    with open(os.path.join(OUT, "malicious_legacy.pth"), "wb") as f:
        f.write(evil)
    # protocol 4: STACK_GLOBAL builtins.eval + REDUCE
    evil4 = (b"\x80\x04\x8c\x08builtins\x94\x8c\x04eval\x94\x93\x94\x8c\x10__import__('os')"
             b"\x94\x85\x94R\x94.")
    with open(os.path.join(OUT, "malicious_eval.pkl"), "wb") as f:
        f.write(evil4)


def main():
    os.makedirs(OUT, exist_ok=True)
    rul_fixture()
    pat = pattern_state_dict()
    gz_save(pat, "resnet18_pattern.pth.gz")
    gz_save({"state_dict": pat, "epoch": 40, "arch": "resnet18",
             "best_prec1": np.float64(61.25)}, "msceleb_pattern_legacy.pth.gz", legacy=True)
    misc_fixture()
    malicious_fixtures()
    total = sum(os.path.getsize(os.path.join(OUT, n)) for n in os.listdir(OUT))
    print(f"fixtures in {os.path.normpath(OUT)}: {total / 1e6:.2f} MB")


def check_safetensors(path):
    """Interoperability check of one of our checkpoints (see the module docstring)."""
    sd, meta = read_safetensors(path)
    print(f"{path}: {len(sd)} tensors; metadata keys {sorted(meta)}")
    for k in ("format", "epoch", "model_config"):
        if k in meta:
            print(f"  {k}: {meta[k]}")
    cfg = json.loads(meta.get("model_config", "{}"))
    if cfg.get("kind", "rul") != "rul":
        print("  (baseline checkpoint: skipping the RUL structure check)")
        return
    model = Res18Feature(cfg.get("widths", [64, 128, 256, 512]), cfg.get("inputSize", 224),
                         cfg.get("numClasses", 7), cfg.get("dropout", 0.4), cfg.get("featureDim", 64))
    target = model.state_dict()
    fixed = collections.OrderedDict()
    for k, v in sd.items():
        fixed[k] = v.to(target[k].dtype) if k in target else v
    res = model.load_state_dict(fixed, strict=True)
    print(f"  torch load_state_dict(strict=True) into the official res18feature: {res}")
    exp_path = os.path.join(OUT, "rul_small_expected.safetensors")
    if os.path.exists(exp_path) and cfg.get("widths") == WIDTHS and cfg.get("inputSize") == INPUT:
        exp, _ = read_safetensors(exp_path)
        x = exp["x"].permute(0, 3, 1, 2).contiguous()
        model.eval()
        with torch.no_grad():
            logits, _, u = model.forward_eval(x)
        print(f"  eval logits on the fixture batch:\n{logits}")
        print(f"  eval u: {u}")
        d = (logits.double() - exp["eval.logits"].double()).abs().max().item()
        print(f"  max |logits - fixture eval.logits (float64 reference)| = {d:.3e}")
        pth = torch.load(os.path.join(OUT, "rul_small.pth"))["state_dict"]
        same = [k for k in pth if k in fixed and torch.equal(pth[k], fixed[k])]
        print(f"  tensors bit-identical to tests/fixtures/model/rul_small.pth: "
              f"{len(same)} of {len(pth)}")


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "check-safetensors":
        check_safetensors(sys.argv[2])
    else:
        main()
