import os, sys, torch, torch.nn.functional as F
torch.set_num_threads(1)
HERE = os.path.dirname(os.path.abspath(__file__)); sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
import bench_noisy_torch as B
from make_fixtures import read_safetensors
t, _ = read_safetensors(os.path.join(HERE, "block_ours.safetensors"))
def rel(a, b): return float((a.double() - b.double()).norm() / (b.double().norm() + 1e-30))
for dt in (torch.float64, torch.float32):
    m, _, _ = B.build("baseline", [32, 64, 128, 256], 32, 10)
    m.load_state_dict({k[3:]: v for k, v in t.items() if k.startswith("sd.")}); m.to(dt).train()
    h3 = t["h3"].permute(0, 3, 1, 2).to(dt).requires_grad_(True)
    y = m.layer4[0](h3); (y * t["r"].permute(0, 3, 1, 2).to(dt)).sum().backward()
    print(f"{dt}: T1 layer4.0 alone: dh3 rel err {rel(t['t1.dh3'].permute(0,3,1,2), h3.grad):.1e}; " + ", ".join(
        f"{n[9:]} {rel(t['t1.grad.layer4.0.' + n[9:]], p.grad):.1e}" for n, p in m.named_parameters() if n.startswith("layer4.0.")))
    m.zero_grad(); h3.grad = None
    lg = m.fc(torch.flatten(m.avgpool(m.layer4(h3)), 1)); F.cross_entropy(lg, t["labels"].long()).backward()
    print(f"{dt}: T3 layer4+pool+fc+CE: dh3 rel err {rel(t['t3.dh3'].permute(0,3,1,2), h3.grad):.1e}")
