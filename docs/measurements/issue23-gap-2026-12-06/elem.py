import os, sys, torch, torch.nn.functional as F
torch.set_num_threads(1)
HERE = os.path.dirname(os.path.abspath(__file__)); sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
import bench_noisy_torch as B
from make_fixtures import read_safetensors
t, _ = read_safetensors(os.path.join(HERE, sys.argv[1] + ".safetensors"))
m, _, _ = B.build("baseline", [32, 64, 128, 256], 32, 10)
m.load_state_dict({k[7:]: v for k, v in t.items() if k.startswith("before.")}); m.double().train()
acts = {}
m.layer4[0].bn1.register_forward_hook(lambda mod, i, o: acts.__setitem__("bn1_out", o.detach().clone()))
x = t["x"].permute(0, 3, 1, 2).double()
F.cross_entropy(m(x), t["labels"].long()).backward()
for name in sys.argv[2:]:
    ref = dict(m.named_parameters())[name].grad.flatten(); ours = t["grad." + name].double().flatten()
    d = (ours - ref).abs(); idx = torch.argsort(d, descending=True)[:6]
    print(name, "n", ref.numel(), "elements with |err| > 1e-3·max|ref|:", int((d > 1e-3 * ref.abs().max()).sum()))
    for i in idx.tolist(): print(f"   [{i}] ours {float(ours[i]):+.6e} f64 {float(ref[i]):+.6e}")
o = acts["bn1_out"][:, :, 0, 0]
print("layer4.0.bn1 output (before relu): elements exactly 0:", int((o == 0).sum()), "|y|<1e-6:", int((o.abs() < 1e-6).sum()))
c = int(os.environ.get("CH", "241"))
col = o[:, c]
order = torch.argsort(col.abs())[:4]
print(f"channel {c}: bn output (pre-relu) smallest |y|:", [(int(i), float(col[i])) for i in order])
print(f"channel {c}: mean {float(col.mean()):.3e}, #>0 {int((col>0).sum())} of {col.numel()}")
