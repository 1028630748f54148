import json, os, sys, torch
torch.set_num_threads(1)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
import bench_noisy_torch as B
torch.manual_seed(0)
out = {}
for variant in ["baseline", "rul"]:
    m, body, head = B.build(variant, [32, 64, 128, 256], 32, 10)
    hid = {id(p) for p in head}
    stats = {}
    for n, p in m.named_parameters():
        v = p.detach().double()
        stats[n] = [v.numel(), float(v.mean()), float(v.std(unbiased=False)), float(v.abs().max())]
    out[variant] = {"stats": stats, "classifier": [n for n, p in m.named_parameters() if id(p) in hid],
                    "backboneCount": len(body)}
print(json.dumps(out))
