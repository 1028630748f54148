import os, sys, torch, torch.nn.functional as F
HERE = os.path.dirname(os.path.abspath(__file__)); sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
from make_fixtures import read_safetensors
t, _ = read_safetensors(os.path.join(HERE, "pair_ours.safetensors"))
names = []
for k in t:
    n = k.split(".")[0]
    if n not in names: names.append(n)
def rel(a, b): return float((a.double() - b.double()).norm() / (b.double().norm() + 1e-30))
for n in names:
    relu = bool(int(t[f"{n}.relu"][0]))
    res = []
    for i in (1, 2):
        x = t[f"{n}.x{i}"].permute(0, 3, 1, 2).double().requires_grad_(True)
        c = x.shape[1]
        g = torch.ones(c, dtype=torch.float64, requires_grad=True); b = torch.zeros(c, dtype=torch.float64, requires_grad=True)
        y = F.batch_norm(x, None, None, g, b, training=True, eps=1e-5)
        if relu: y = F.relu(y)
        (y * t[f"{n}.r{i}"].permute(0, 3, 1, 2).double()).sum().backward()
        res.append(f"layer{i} dx {rel(t[f'{n}.dx{i}'].permute(0, 3, 1, 2), x.grad):.1e} dgamma {rel(t[f'{n}.dg{i}'], g.grad):.1e} dbeta {rel(t[f'{n}.db{i}'], b.grad):.1e}")
    print(f"{n:16s} {list(t[f'{n}.x1'].shape)} / {list(t[f'{n}.x2'].shape)}: " + " | ".join(res))
