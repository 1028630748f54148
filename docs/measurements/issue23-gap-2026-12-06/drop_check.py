import os, sys, torch, torch.nn as nn, torch.nn.functional as F
torch.set_num_threads(1)
HERE = os.path.dirname(os.path.abspath(__file__)); sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
import bench_noisy_torch as B
from make_fixtures import read_safetensors
t, _ = read_safetensors(os.path.join(HERE, "drop_ours.safetensors"))
class Fixed(nn.Module):
    def __init__(self, m): super().__init__(); self.m = m
    def forward(self, x): return x * self.m.to(x.dtype)
def grads(dt):
    model, _, _ = B.build("rul", [32, 64, 128, 256], 32, 10)
    model.load_state_dict({k[7:]: v for k, v in t.items() if k.startswith("before.")}, strict=True)
    model.mu[1] = Fixed(t["mask.mu"].permute(0, 3, 1, 2)); model.log_var[1] = Fixed(t["mask.log_var"].permute(0, 3, 1, 2))
    model.to(dt).train()
    x = t["x"].permute(0, 3, 1, 2).to(dt); y = t["labels"].long(); p = t["perm"].long()
    lg = model.forward_train(x, y, p)[6]
    loss = 0.5 * F.cross_entropy(lg, y) + 0.5 * F.cross_entropy(lg, y[p]); loss.backward()
    return float(loss), {n: q.grad.double() for n, q in model.named_parameters()}
l64, g64 = grads(torch.float64); l32, g32 = grads(torch.float32)
rows = sorted(((float((t["grad." + n].double() - g).norm() / (g.norm() + 1e-30)), float((g32[n] - g).norm() / (g.norm() + 1e-30)), n)
               for n, g in g64.items() if not n.endswith("3.bias")), reverse=True)
print(f"RUL with dropout 0.4 (our masks replayed): loss ours {float(t['loss'][0]):.7f} f64 {l64:.7f} torch32 {l32:.7f}")
for a, b, n in rows[:4]: print(f"  worst: ours {a:.1e} torch32 {b:.1e} {n}")
for n in ["mu.3.weight", "log_var.3.weight", "mu.4.weight", "log_var.4.weight", "fc.weight"]:
    r = [x for x in rows if x[2] == n][0]; print(f"  {n}: ours {r[0]:.1e} torch32 {r[1]:.1e}")
