import json, torch
a, b = torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)
opt = torch.optim.Adam([{"params": [a], "lr": 2e-4}, {"params": [b], "lr": 2e-3}], weight_decay=1e-4)
s = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)
out = []
for e in range(30):
    out.append([g["lr"] for g in opt.param_groups]); opt.step(); s.step()
print(json.dumps(out))
