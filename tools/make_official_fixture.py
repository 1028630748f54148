#!/usr/bin/python3
"""Official-checkpoint interchange fixtures (dev-time; run with Debian's /usr/bin/python3, which
has python3-torch). The tests never need PyTorch for the forward direction; the reverse check
below is run by tests/train/official_layout_test.ts when /usr/bin/python3 has torch.

    /usr/bin/python3 tools/make_official_fixture.py
        # (re)build tests/fixtures/official/*
    /usr/bin/python3 tools/make_official_fixture.py check FILE.pth OURS.safetensors [--format F]
        # load FILE exactly as the official src/main.py code path does, run the batch `x` of
        # OURS.safetensors (written by our side, with our logits), print the largest difference
        # and exit 1 when it exceeds 1e-4. F: official-pth (default; res18feature + separate fc)
        # or pth (a plain state dict: `features.*`/`mu.*`/`log_var.*`/`fc.*` for RUL, torchvision
        # names for the baseline (torchvision.models.resnet18 itself at full width), loaded with
        # load_state_dict(strict=True)).

The model classes below rebuild the official code's modules with the same structure and the same
state-dict names (github zyh-uaiaaaa/Relative-Uncertainty-Learning: src/resnet.py `ResNet` /
`BasicBlock` with `get_resnet_layer`, src/rul.py `res18feature` = `features` (the ResNet's
children minus avgpool and fc) + the `mu` and `log_var` heads, src/main.py's separate
`fc = nn.Linear(out_dimension, 7)`). Two parameters are added so the fixture stays small: the
ResNet stage widths (official 64/128/256/512; here 4/8/16/32) and the backbone map side of the
heads' flatten (official 7 = 224 px; here 2 = 64 px). Everything else (layers, strides, paddings,
BatchNorm eps 2e-5 without affine in the heads, Dropout 0.4, Flatten, BatchNorm1d) is the
official code's. The constructor loads the pretrained backbone file exactly as res18feature does
(torch.load(path)['state_dict'], strict=False).

What is built (tests/fixtures/official/, about 0.5 MB):

- acc_888.pth: saved exactly as src/main.py saves it:
  torch.save({'model_state_dict': res18.state_dict(), 'fc_state_dict': fc.state_dict()}, ...)
  with random weights and random BatchNorm statistics (gamma, beta, running mean / var).
- acc_888_dataparallel.pth: the same weights as one merged state dict of a DataParallel-wrapped
  model ({'state_dict': {'module.features.0.weight': ...}, 'epoch': 12}), the other layout FER
  code commonly writes.
- acc_888_expected.safetensors: a fixed batch `x` (NCHW, 4 x 3 x 64 x 64), and the official
  eval-mode outputs: `logits` = fc(res18(x, phase='test')), `mu` (= res18(x, phase='test')) and
  `u` = log_var(features(x)).exp().mean(dim=1), computed in float64 from the float32 weights (the
  seed is chosen so that PyTorch's own float32 forward agrees to < 1e-5).
"""
import collections
import json
import os
import sys
import tempfile
from types import SimpleNamespace

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import randomize_bn, read_safetensors, rel_err, write_safetensors  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "official")
WIDTHS = [4, 8, 16, 32]
INPUT = 64
MAP = 2  # backbone output side at 64 px (224 px: 7)
OUT_DIM = 16
BATCH = 4
TOL = 1e-4


# ------------------------------------------------------------ the official modules (src/resnet.py)
class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, in_channels, out_channels, stride=1, downsample=False):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=stride, padding=1,
                               bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, kernel_size=3, stride=1, padding=1,
                               bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        if downsample:
            conv = nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride, bias=False)
            bn = nn.BatchNorm2d(out_channels)
            downsample = nn.Sequential(conv, bn)
        else:
            downsample = None
        self.downsample = downsample

    def forward(self, x):
        i = x
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.bn2(self.conv2(x))
        if self.downsample is not None:
            i = self.downsample(i)
        x += i
        return self.relu(x)


class ResNet(nn.Module):
    def __init__(self, block, n_blocks, channels, output_dim):
        super().__init__()
        self.in_channels = channels[0]
        assert len(n_blocks) == len(channels) == 4
        self.conv1 = nn.Conv2d(3, self.in_channels, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(self.in_channels)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self.get_resnet_layer(block, n_blocks[0], channels[0])
        self.layer2 = self.get_resnet_layer(block, n_blocks[1], channels[1], stride=2)
        self.layer3 = self.get_resnet_layer(block, n_blocks[2], channels[2], stride=2)
        self.layer4 = self.get_resnet_layer(block, n_blocks[3], channels[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(self.in_channels, output_dim)

    def get_resnet_layer(self, block, n_blocks, channels, stride=1):
        layers = []
        downsample = self.in_channels != block.expansion * channels
        layers.append(block(self.in_channels, channels, stride, downsample))
        for _ in range(1, n_blocks):
            layers.append(block(block.expansion * channels, channels))
        self.in_channels = block.expansion * channels
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        h = self.avgpool(x).view(x.shape[0], -1)
        return self.fc(h), h


# ------------------------------------------------------------ the official modules (src/rul.py)
class Flatten(nn.Module):
    def forward(self, input):
        return input.view(input.size(0), -1)


class res18feature(nn.Module):
    """src/rul.py's res18feature; `widths` and `map_size` added (official: 64..512 and 7)."""

    def __init__(self, args, pretrained=True, num_classes=7, drop_rate=0.4, out_dim=64,
                 widths=(64, 128, 256, 512), map_size=7):
        super().__init__()
        res18 = ResNet(block=BasicBlock, n_blocks=[2, 2, 2, 2], channels=list(widths),
                       output_dim=1000)
        if args.pretrained_backbone_path is not None:
            msceleb_model = torch.load(args.pretrained_backbone_path)
            state_dict = msceleb_model['state_dict']
            res18.load_state_dict(state_dict, strict=False)
        self.drop_rate = drop_rate
        self.out_dim = out_dim
        self.features = nn.Sequential(*list(res18.children())[:-2])
        c = widths[3]
        self.mu = nn.Sequential(
            nn.BatchNorm2d(c, eps=2e-5, affine=False),
            nn.Dropout(p=self.drop_rate),
            Flatten(),
            nn.Linear(c * map_size * map_size, self.out_dim),
            nn.BatchNorm1d(self.out_dim, eps=2e-5))
        self.log_var = nn.Sequential(
            nn.BatchNorm2d(c, eps=2e-5, affine=False),
            nn.Dropout(p=self.drop_rate),
            Flatten(),
            nn.Linear(c * map_size * map_size, self.out_dim),
            nn.BatchNorm1d(self.out_dim, eps=2e-5))

    def forward(self, x, target, phase='train'):
        # (the train phase's uncertainty-weighted mixup is not needed here)
        assert phase != 'train', "fixture code evaluates only"
        x = self.features(x)
        return self.mu(x)


def official_models(widths, map_size, out_dim, pretrained_backbone_path):
    """`res18 = res18feature(args)` and `fc = nn.Linear(args.out_dimension, 7)` as in main.py."""
    args = SimpleNamespace(pretrained_backbone_path=pretrained_backbone_path,
                           out_dimension=out_dim)
    res18 = res18feature(args, out_dim=args.out_dimension, widths=widths, map_size=map_size)
    fc = nn.Linear(args.out_dimension, 7)
    return res18, fc


def official_eval(res18, fc, x):
    """The official test-phase outputs: logits, mu and u (= mean of exp(log σ²) per sample)."""
    res18.eval()
    fc.eval()
    with torch.no_grad():
        mu = res18(x, None, phase='test')
        logits = fc(mu)
        u = res18.log_var(res18.features(x)).exp().mean(dim=1)
    return logits, mu, u


# ------------------------------------------------------------ building the fixtures
def build():
    os.makedirs(OUT, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        # an MS-Celeb-style pretrained backbone file, loaded by res18feature as the official one
        backbone = os.path.join(tmp, "resnet18_msceleb.pth")
        for seed in range(1, 50):
            torch.manual_seed(seed)
            gen = torch.Generator().manual_seed(seed + 1000)
            pre = ResNet(BasicBlock, [2, 2, 2, 2], WIDTHS, 1000)
            randomize_bn(pre, gen)
            torch.save({'state_dict': pre.state_dict(), 'epoch': 40}, backbone)
            res18, fc = official_models(WIDTHS, MAP, OUT_DIM, backbone)
            randomize_bn(res18, gen)
            with torch.no_grad():
                fc.weight.mul_(4)  # logits of order 1 (PyTorch's default init gives ~0.3)
            x = torch.randn(BATCH, 3, INPUT, INPUT, generator=gen)
            logits32, mu32, u32 = official_eval(res18, fc, x)
            logits, mu, u = official_eval(res18.double(), fc.double(), x.double())
            res18.float()
            fc.float()
            err = max(rel_err(logits32, logits), rel_err(mu32, mu), rel_err(u32, u))
            print(f"seed {seed}: torch float32 vs float64 forward: {err:.1e}")
            if err < 1e-5:
                break
        else:
            raise SystemExit("no well-conditioned seed found")
    # exactly as src/main.py saves it
    torch.save({'model_state_dict': res18.state_dict(),
                'fc_state_dict': fc.state_dict()},
               os.path.join(OUT, "acc_888.pth"))
    merged = collections.OrderedDict()
    for k, v in res18.state_dict().items():
        merged["module." + k] = v
    for k, v in fc.state_dict().items():
        merged["module.fc." + k] = v
    torch.save({'state_dict': merged, 'epoch': 12},
               os.path.join(OUT, "acc_888_dataparallel.pth"))
    tensors = collections.OrderedDict(
        [("x", x), ("logits", logits.float()), ("mu", mu.float()), ("u", u.float())])
    write_safetensors(os.path.join(OUT, "acc_888_expected.safetensors"), tensors, {
        "generator": "tools/make_official_fixture.py", "torch": torch.__version__,
        "reference_precision": "float64", "seed": str(seed),
        "torch_float32_rel_err": f"{err:.2e}", "widths": json.dumps(WIDTHS),
        "inputSize": str(INPUT), "featureDim": str(OUT_DIM), "numClasses": "7"})
    total = sum(os.path.getsize(os.path.join(OUT, n)) for n in os.listdir(OUT))
    print(f"official fixtures (seed {seed}) in {os.path.normpath(OUT)}: {total / 1e6:.2f} MB; "
          f"|logits| max {logits.abs().max().item():.3f}, u {u.tolist()}")


# ------------------------------------------------------------ the reverse check
def map_size(input_size):
    s = input_size
    for k, st, p in [(7, 2, 3), (3, 2, 1), (3, 2, 1), (3, 2, 1), (3, 2, 1)]:
        s = (s + 2 * p - k) // st + 1
    return s


def check(path, ours_path, fmt):
    ours, meta = read_safetensors(ours_path)
    widths = json.loads(meta["widths"])
    input_size = int(meta["inputSize"])
    kind = meta.get("kind", "rul")
    num_classes = int(meta.get("numClasses", "7"))
    x = ours["x"]
    if x.shape[1] != 3:
        x = x.permute(0, 3, 1, 2).contiguous()  # NHWC -> NCHW
    # every file must also pass PyTorch's safe loader (weights_only, PyTorch >= 1.13)
    try:
        torch.load(path, weights_only=True)
        print(f"{path}: torch.load(weights_only=True) accepts it")
    except TypeError:
        print("(this PyTorch has no weights_only loader)")
    ckpt = torch.load(path)
    if fmt == "official-pth":
        if kind != "rul" or num_classes != 7:
            raise SystemExit(f"official-pth holds a 7-class RUL model, not {kind}/{num_classes}")
        # src/main.py: res18 = res18feature(args); fc = nn.Linear(args.out_dimension, 7)
        res18, fc = official_models(widths, map_size(input_size), int(meta["featureDim"]), None)
        print("model_state_dict:", res18.load_state_dict(ckpt['model_state_dict']))
        print("fc_state_dict:", fc.load_state_dict(ckpt['fc_state_dict']))
        logits, _, u = official_eval(res18, fc, x)
    elif kind == "rul":
        res18, fc = official_models(widths, map_size(input_size), int(meta["featureDim"]), None)
        whole = nn.Module()
        whole.features, whole.mu, whole.log_var = res18.features, res18.mu, res18.log_var
        whole.fc = nn.Linear(int(meta["featureDim"]), num_classes)
        print("state dict:", whole.load_state_dict(ckpt, strict=True))
        logits, _, u = official_eval(res18, whole.fc, x)
    else:
        # baseline: torchvision's names (conv1, bn1, layerK, fc) = the official ResNet's; at
        # full width torchvision's own resnet18
        if widths == [64, 128, 256, 512]:
            import torchvision
            net = torchvision.models.resnet18(num_classes=num_classes)
            print("torchvision resnet18 state dict:", net.load_state_dict(ckpt, strict=True))
            net.eval()
            with torch.no_grad():
                logits = net(x)
        else:
            net = ResNet(BasicBlock, [2, 2, 2, 2], widths, num_classes)
            print("state dict:", net.load_state_dict(ckpt, strict=True))
            net.eval()
            with torch.no_grad():
                logits, _ = net(x)
        u = None
    d = (logits.double() - ours["logits"].double()).abs().max().item()
    scale = ours["logits"].abs().max().item()
    print(f"max |PyTorch logits - ours| = {d:.3e} (|logits| up to {scale:.3f})")
    bad = d > TOL
    if u is not None and "u" in ours:
        du = (u.double() - ours["u"].double()).abs().max().item()
        print(f"max |PyTorch u - ours| = {du:.3e}")
        bad = bad or du > TOL
    if bad:
        raise SystemExit(f"FAIL: difference above {TOL}")
    print("OK")


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "check":
        fmt = "official-pth"
        if "--format" in sys.argv:
            fmt = sys.argv[sys.argv.index("--format") + 1]
        check(sys.argv[2], sys.argv[3], fmt)
    elif len(sys.argv) == 1:
        build()
    else:
        raise SystemExit(__doc__)
