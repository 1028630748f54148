"""E6: compare a gradient file of grad_ours.ts with torch float64 (and torch float32)."""
import os, sys, torch, torch.nn.functional as F
torch.set_num_threads(1)
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
import bench_noisy_torch as B
from make_fixtures import read_safetensors
f = sys.argv[1]
t, _ = read_safetensors(os.path.join(HERE, f + ".safetensors"))
widths = [int(v) for v in t["widths"]]
variant = "rul" if any(k.startswith("before.mu.") for k in t) else "baseline"
size = t["x"].shape[1]
def grads(dt):
    model, _, _ = B.build(variant, widths, size, 10)
    for m in model.modules():
        if isinstance(m, torch.nn.Dropout): m.p = 0.0
    model.load_state_dict({k[7:]: v for k, v in t.items() if k.startswith("before.")}, strict=True)
    model.to(dt).train()
    x = t["x"].permute(0, 3, 1, 2).contiguous().to(dt); y = t["labels"].long(); p = t["perm"].long()
    if variant == "rul":
        lg = model.forward_train(x, y, p)[6]; loss = 0.5 * F.cross_entropy(lg, y) + 0.5 * F.cross_entropy(lg, y[p])
    else:
        loss = F.cross_entropy(model(x), y)
    loss.backward()
    return float(loss), {n: q.grad.double() for n, q in model.named_parameters()}
l64, g64 = grads(torch.float64); l32, g32 = grads(torch.float32)
rows = sorted(((float((t["grad." + n].double() - g).norm() / (g.norm() + 1e-30)),
                float((g32[n] - g).norm() / (g.norm() + 1e-30)), n) for n, g in g64.items() if not n.endswith("3.bias")), reverse=True)
if len(sys.argv) > 2:
    for r in sorted(rows, key=lambda r: r[2]): print(f"  {r[0]:.1e} {r[1]:.1e} {r[2]}")
print(f"{f}: {variant} widths {widths} batch {t['x'].shape[0]} size {size}: loss ours {float(t['loss'][0]):.7f} f64 {l64:.7f}; "
      f"max grad rel err ours {rows[0][0]:.1e} ({rows[0][2]}), torch32 {max(r[1] for r in rows):.1e}; median ours {rows[len(rows)//2][0]:.1e}")
