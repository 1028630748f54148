"""E5: each op of runs/gap/ops_ours.safetensors recomputed in float64 with torch (NHWC -> NCHW);
relative error (norm) of ours vs f64 for y and every gradient, and the same for torch float32."""
import os, sys, torch, torch.nn.functional as F
torch.set_num_threads(1)
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
from make_fixtures import read_safetensors
t, _ = read_safetensors(os.path.join(HERE, os.environ.get("OPS", "ops_ours.safetensors")))
names = sorted({k.rsplit(".", 1)[0] for k in t}, key=lambda n: list(t).index(n + ".x"))
nchw = lambda a: a.permute(0, 3, 1, 2)
def rel(a, b): return float((a.double() - b.double()).norm() / (b.double().norm() + 1e-30))
for n in names:
    g = lambda k: t[f"{n}.{k}"]
    stride, pad, code = [int(v) for v in g("meta")]
    res = {}
    for dt in (torch.float64, torch.float32):
        x = nchw(g("x")).to(dt).requires_grad_(True)
        r = nchw(g("r")) if g("r").dim() == 4 else g("r")
        r = r.to(dt)
        params = []
        if n.startswith(("conv", "down")):
            w = g("w").permute(3, 2, 0, 1).to(dt).requires_grad_(True); params = [w]
            y = F.conv2d(x, w, stride=stride, padding=pad)
        elif n.startswith("bn"):
            gm = g("g").to(dt).requires_grad_(True); bt = g("b").to(dt).requires_grad_(True); params = [gm, bt]
            y = F.batch_norm(x, None, None, gm, bt, training=True, eps=1e-5)
            if code: y = F.relu(y)
        elif n == "maxpool":
            y = F.max_pool2d(x, 3, 2, 1)
        elif n.startswith("relu"):
            y = F.relu(x)
        else:
            y = x.mean(dim=(2, 3))
        (y * r).sum().backward()
        res[dt] = [y.detach()] + [x.grad] + [p.grad for p in params]
    ours_y = nchw(g("y")) if g("y").dim() == 4 else g("y")
    ours = [ours_y, nchw(g("dx"))] + ([g("dw").permute(3, 2, 0, 1)] if n.startswith(("conv", "down")) else
                                      [g("dg"), g("db")] if n.startswith("bn") else [])
    labels = ["y", "dx"] + (["dw"] if n.startswith(("conv", "down")) else ["dgamma", "dbeta"] if n.startswith("bn") else [])
    print(f"{n:14s} shape x {list(g('x').shape)}: " + ", ".join(
        f"{l} ours {rel(o, f):.1e} / torch32 {rel(q, f):.1e}" for l, o, f, q in zip(labels, ours, res[torch.float64], res[torch.float32])))
