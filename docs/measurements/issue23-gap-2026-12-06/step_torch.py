"""E4 (PyTorch twin): replays runs/gap/step_<variant>.safetensors with the twin's model and optimiser
(tools/bench_noisy_torch.py build() + its Adam groups): per step, load OUR state before the step,
compare loss and gradients, take the twin's Adam step (its own Adam state, carried over the steps)
and compare the parameters and BN buffers after the step with ours."""
import os, sys, torch, torch.nn.functional as F
torch.set_num_threads(1)
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
import bench_noisy_torch as B
from make_fixtures import read_safetensors

for variant in (sys.argv[1] if len(sys.argv) > 1 else "baseline,rul").split(","):
    t, _ = read_safetensors(os.path.join(HERE, f"step_{variant}.safetensors"))
    model, body, head = B.build(variant, [32, 64, 128, 256], 32, 10)
    if variant == "rul":
        for m in model.modules():
            if isinstance(m, torch.nn.Dropout): m.p = 0.0
    opt = torch.optim.Adam([{"params": body, "lr": 2e-4}, {"params": head, "lr": 2e-3}], weight_decay=1e-4)
    names = dict(model.named_parameters())
    k = 0
    while f"{k}.x" in t:
        sd = {n[len(f"{k}.before."):]: v for n, v in t.items() if n.startswith(f"{k}.before.")}
        missing, unexpected = model.load_state_dict(sd, strict=True), None
        x = t[f"{k}.x"].permute(0, 3, 1, 2).contiguous().float()
        y = t[f"{k}.labels"].long(); p = t[f"{k}.perm"].long()
        model.train()
        if variant == "rul":
            logits = model.forward_train(x, y, p)[6]
            loss = 0.5 * F.cross_entropy(logits, y) + 0.5 * F.cross_entropy(logits, y[p])
        else:
            loss = F.cross_entropy(model(x), y)
        opt.zero_grad(); loss.backward()
        worst = (0, "")
        for n, q in names.items():
            g = t[f"{k}.grad.{n}"]
            if n.endswith("3.bias"): continue  # bias in front of a train-mode BatchNorm1d: ~0
            e = float((q.grad - g).norm() / (q.grad.norm() + 1e-12))
            worst = max(worst, (e, n))
        opt.step()
        worstA = (0, "")
        with torch.no_grad():
            for n, v in model.state_dict().items():
                if "num_batches" in n: continue
                a = t[f"{k}.after.{n}"].to(v.dtype)
                e = float((v - a).norm() / (v.norm() + 1e-12))
                worstA = max(worstA, (e, n))
            # Adam's update size vs the distance: how much of the update is explained
            dmax = 0.0
            for n, q in names.items():
                upd = (q - t[f"{k}.before.{n}"]).norm()
                diff = (q - t[f"{k}.after.{n}"]).norm()
                dmax = max(dmax, float(diff / (upd + 1e-30)))
        print(f"{variant} step {k}: loss ours {float(t[f'{k}.loss'][0]):.6f} twin {float(loss):.6f} | "
              f"worst grad rel err {worst[0]:.2e} ({worst[1]}) | worst state-after rel err {worstA[0]:.2e} "
              f"({worstA[1]}) | worst |ours-twin| / |update| {dmax:.2e}", flush=True)
        k += 1
