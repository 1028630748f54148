"""E4b: which side is nearer the exact (float64) gradient? For each saved step, load OUR state
before the step into the twin's model in float64 and in float32, compute the gradients, and compare
ours and the twin's float32 gradients with the float64 ones (relative error of each tensor)."""
import os, sys, torch, torch.nn.functional as F
torch.set_num_threads(1)
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
import bench_noisy_torch as B
from make_fixtures import read_safetensors

def grads(variant, sd, x, y, p, dtype):
    model, _, _ = B.build(variant, [32, 64, 128, 256], 32, 10)
    if variant == "rul":
        for m in model.modules():
            if isinstance(m, torch.nn.Dropout): m.p = 0.0
    model.load_state_dict(sd, strict=True)
    model.to(dtype).train()
    x = x.to(dtype)
    if variant == "rul":
        logits = model.forward_train(x, y, p)[6]
        loss = 0.5 * F.cross_entropy(logits, y) + 0.5 * F.cross_entropy(logits, y[p])
    else:
        loss = F.cross_entropy(model(x), y)
    loss.backward()
    return {n: q.grad.double() for n, q in model.named_parameters()}

for variant in (sys.argv[1] if len(sys.argv) > 1 else "baseline,rul").split(","):
    t, _ = read_safetensors(os.path.join(HERE, f"step_{variant}{os.environ.get('SUFFIX', '')}.safetensors"))
    k = 0
    while f"{k}.x" in t:
        sd = {n[len(f"{k}.before."):]: v for n, v in t.items() if n.startswith(f"{k}.before.")}
        x = t[f"{k}.x"].permute(0, 3, 1, 2).contiguous().float()
        y = t[f"{k}.labels"].long(); p = t[f"{k}.perm"].long()
        g64 = grads(variant, sd, x, y, p, torch.float64)
        g32 = grads(variant, sd, x, y, p, torch.float32)
        rows = []
        for n, g in g64.items():
            if n.endswith("3.bias"): continue
            ours = t[f"{k}.grad.{n}"].double()
            den = g.norm() + 1e-30
            rows.append((float((ours - g).norm() / den), float((g32[n] - g).norm() / den), n))
        rows.sort(reverse=True)
        if os.environ.get("ALL") and k == int(os.environ["ALL"]): print("\n".join(f"  {a:.1e} {b:.1e} {c}" for a, b, c in sorted(rows, key=lambda r: r[2])))
        mo = max(r[0] for r in rows); mt = max(r[1] for r in rows)
        print(f"{variant} step {k}: max rel err vs float64: ours {mo:.2e}, twin float32 {mt:.2e}; "
              f"worst 3 (ours, twin32, name): " + "; ".join(f"{a:.1e} {b:.1e} {c}" for a, b, c in rows[:3]), flush=True)
        k += 1
