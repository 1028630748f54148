"""E1 (PyTorch twin): statistics of tools/bench_noisy_torch.py's Data(train=True) on the first N
Fashion-MNIST training images, seeded as its run() seeds (seed 0), EPOCHS passes in loader order
(shuffle off: the statistics do not depend on the order); plus an exact comparison of its test
transform with this project's (runs/gap/test64_ours.f32)."""
import json
import os
import random
import sys

import numpy as np
import torch

torch.set_num_threads(1)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
import bench_noisy_torch as B  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
EPOCHS = int(sys.argv[2]) if len(sys.argv) > 2 else 2
ROOT = "/usr/share/datasets/fashion-mnist"
x, y = B.load_split(ROOT, "train", N)
torch.manual_seed(0)
np.random.seed(0)
random.seed(0)

counts = {"flip": 0, "noise": 0}
orig_fliplr, orig_noise = np.fliplr, B.add_gaussian_noise


def fl(a):
    counts["flip"] += 1
    return orig_fliplr(a)


def gn(a, var=30.0):
    counts["noise"] += 1
    return orig_noise(a, var)


np.fliplr = fl
B.add_gaussian_noise = gn
ds = B.Data(x, y, 32, True)
erased = 0
area = 0
zero_sum = 0
s1 = s2 = 0.0
cnt = 0
hist = [0] * 11
for e in range(EPOCHS):
    for i in range(N):
        t, _, _ = ds[i]
        ch0 = t[0]
        z = int((ch0 == 0).sum())
        zero_sum += z
        if z > 0:
            erased += 1
            area += z
            hist[min(10, int(z / 25.6))] += 1
        s1 += float(ch0.double().sum())
        s2 += float((ch0.double() ** 2).sum())
        cnt += ch0.numel()
T = N * EPOCHS
mean = s1 / cnt
print(json.dumps({
    "side": "torch twin", "samples": T, "p_flip": counts["flip"] / T, "p_noise": counts["noise"] / T,
    "p_erase(zeros>0)": erased / T, "mean_erase_area_px(zeros)": area / max(1, erased),
    "mean_zero_px_per_image_ch0": zero_sum / T,
    "erase_area_hist_per_25_6px": [round(v / max(1, erased), 4) for v in hist],
    "ch0_mean": mean, "ch0_std": (s2 / cnt - mean * mean) ** 0.5}))
np.fliplr = orig_fliplr
# test transform: exact comparison with ours (NHWC float32)
ours = np.fromfile(os.path.join(os.path.dirname(os.path.abspath(__file__)), "test64_ours.f32"),
                   dtype=np.float32).reshape(64, 32, 32, 3)
tds = B.Data(x, y, 32, False)
theirs = np.stack([tds[i][0].numpy().transpose(1, 2, 0) for i in range(64)])
d = np.abs(ours - theirs)
print(json.dumps({"test_transform_max_abs_diff": float(d.max()),
                  "pixels_differing_over_1e-6": int((d > 1e-6).sum()), "of": int(d.size)}))
