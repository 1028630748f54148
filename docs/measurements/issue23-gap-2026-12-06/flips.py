"""E10: for each saved real-data step of step_<variant>.safetensors (baseline), find the BN layers
whose dβ (bias gradient) differs from float64 by more than 1e-3 of its norm, the channels where it
does, and the pre-ReLU value nearest 0 in that channel (float64): a ReLU mask flipped by float32
rounding shows as a single channel with a near-zero value."""
import os, sys, torch, torch.nn.functional as F
torch.set_num_threads(1)
HERE = os.path.dirname(os.path.abspath(__file__)); sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
import bench_noisy_torch as B
from make_fixtures import read_safetensors
t, _ = read_safetensors(os.path.join(HERE, sys.argv[1] + ".safetensors"))
k = 0
while f"{k}.x" in t:
    m, _, _ = B.build("baseline", [32, 64, 128, 256], 32, 10)
    m.load_state_dict({n[len(f"{k}.before."):]: v for n, v in t.items() if n.startswith(f"{k}.before.")}); m.double().train()
    pre = {}
    for name, mod in m.named_modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.register_forward_hook(lambda mo, i, o, name=name: pre.__setitem__(name, o.detach().clone()))
    F.cross_entropy(m(t[f"{k}.x"].permute(0, 3, 1, 2).double()), t[f"{k}.labels"].long()).backward()
    params = dict(m.named_parameters())
    found = []
    for name, y in pre.items():
        ref = params[name + ".bias"].grad; ours = t[f"{k}.grad.{name}.bias"].double()
        d = (ours - ref).abs()
        bad = (d > 1e-3 * ref.norm()).nonzero().flatten().tolist()
        for c in bad:
            col = y[:, c].flatten()
            found.append(f"{name}[ch {c}] dβ ours {float(ours[c]):+.2e} f64 {float(ref[c]):+.2e}, nearest-0 pre-ReLU value {float(col[col.abs().argmin()]):+.1e}")
    print(f"step {k}: {len(found)} channel(s):", *found, sep="\n  ")
    k += 1
