"""E9: forward precision inside the model: layers 1-3 output h3 of ours (block_ours.safetensors,
same seed-0 model and seed-7 input as g_full.safetensors) vs torch float64 and float32; and the
pre-ReLU output of every BN along the way, torch f32 vs f64, to see how close to 0 values come."""
import os, sys, torch, torch.nn.functional as F
torch.set_num_threads(1)
HERE = os.path.dirname(os.path.abspath(__file__)); sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
import bench_noisy_torch as B
from make_fixtures import read_safetensors
g, _ = read_safetensors(os.path.join(HERE, "g_full.safetensors"))
b, _ = read_safetensors(os.path.join(HERE, "block_ours.safetensors"))
sd = {k[7:]: v for k, v in g.items() if k.startswith("before.")}
assert all(torch.equal(sd[k], b["sd." + k]) for k in sd if "running" not in k and "num_batches" not in k)
res = {}
for dt in (torch.float64, torch.float32):
    m, _, _ = B.build("baseline", [32, 64, 128, 256], 32, 10); m.load_state_dict(sd); m.to(dt).train()
    x = g["x"].permute(0, 3, 1, 2).to(dt)
    with torch.no_grad():
        h = m.maxpool(m.relu(m.bn1(m.conv1(x))))
        h = m.layer3(m.layer2(m.layer1(h)))
    res[dt] = h
ours = b["h3"].permute(0, 3, 1, 2).double()
ref = res[torch.float64]
rel = lambda a: float((a.double() - ref).norm() / ref.norm())
print(f"h3 (output of layer3): rel err ours {rel(ours):.2e}, torch32 {rel(res[torch.float32]):.2e}; "
      f"max abs err ours {float((ours - ref).abs().max()):.2e}, torch32 {float((res[torch.float32].double() - ref).abs().max()):.2e}")
