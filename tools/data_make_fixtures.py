#!/usr/bin/env python3
"""Generates tests/data/fixtures/pil_resize.json: Pillow bilinear resizes (the resize torchvision's
Resize applies to PIL images in the official RUL pipeline) of small random images, the independent
reference for lib/data/resize.ts. Also the torchvision ToTensor+Normalize values of a tiny image.

Run with Debian's Python:  /usr/bin/python3 tools/data_make_fixtures.py
Arrays are stored base64 (uint8); run `deno fmt tests/data/fixtures` afterwards.
"""
import base64
import json
import os

import numpy as np
import PIL
from PIL import Image
import torch
import torchvision
from torchvision import transforms

rng = np.random.default_rng(20211206)
cases = []
for (h, w, c, oh, ow) in [(10, 10, 3, 23, 23), (5, 7, 3, 11, 13), (23, 19, 3, 7, 9), (8, 8, 1, 20, 20),
                          (28, 28, 1, 64, 64), (17, 13, 3, 17, 30), (12, 12, 3, 5, 12), (3, 3, 3, 50, 50), (100, 100, 3, 30, 30)]:
    arr = rng.integers(0, 256, size=(h, w, c), dtype=np.uint8)
    img = Image.fromarray(arr[:, :, 0] if c == 1 else arr, mode="L" if c == 1 else "RGB")
    # torchvision.transforms.Resize((oh, ow)) on a PIL image == img.resize((ow, oh), BILINEAR)
    out = transforms.Resize((oh, ow))(img)
    o = np.asarray(out, dtype=np.uint8).reshape(oh, ow, c)
    cases.append({
        "h": h, "w": w, "c": c, "oh": oh, "ow": ow,
        "src": base64.b64encode(arr.tobytes()).decode(),
        "out": base64.b64encode(o.tobytes()).decode(),
    })

tiny = np.array([[[0, 128, 255], [10, 20, 30]], [[255, 255, 255], [1, 2, 3]]], dtype=np.uint8)
norm = transforms.Compose([transforms.ToTensor(),
                           transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
t = norm(Image.fromarray(tiny, mode="RGB")).permute(1, 2, 0).contiguous().numpy()  # HWC

doc = {
    "generator": "tools/data_make_fixtures.py",
    "versions": {"pillow": PIL.__version__, "torch": torch.__version__, "torchvision": torchvision.__version__},
    "resize": cases,
    "normalize": {"src": tiny.flatten().tolist(), "h": 2, "w": 2,
                  "out": [float(v) for v in t.flatten()]},
}
path = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "fixtures", "pil_resize.json")
with open(path + ".tmp", "w") as f:
    json.dump(doc, f, indent=2)
    f.write("\n")
os.replace(path + ".tmp", path)
print("wrote", os.path.normpath(path))
