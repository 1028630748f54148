import json, torch
from torchvision import transforms
torch.set_num_threads(1); torch.manual_seed(0)
re = transforms.RandomErasing(scale=(0.02, 0.25))
img = torch.zeros(3, 32, 32)
M = 400000; n = a = a2 = hs = ws = big = 0
for k in range(M):
    if torch.rand(1) < re.p:
        i, j, h, w, v = re.get_params(img, scale=re.scale, ratio=re.ratio, value=[0])
        if h == 32 and w == 32: continue  # no box found (returns the whole image unchanged)
        n += 1; ar = h * w; a += ar; a2 += ar * ar; hs += h; ws += w; big += ar >= 256
sd = (a2 / n - (a / n) ** 2) ** 0.5
print(json.dumps({"side": "torchvision 0.14 RandomErasing.get_params", "p": n / M, "mean_area": a / n, "sd_area": sd, "se_mean": sd / n ** 0.5, "mean_h": hs / n, "mean_w": ws / n, "p_area_ge_256": big / n}))
