#!/usr/bin/env python3
"""Generates tests/data/fixtures/folder_odd/: a tiny folder-per-class dataset whose images are NOT
100 px (64x64 RGB, 53x37 RGB, 90x120 RGB, 64x64 grey), and folder_odd_expected.json: what the
official pipeline makes of each image at model size 40 -- torchvision's
transforms.Resize((40, 40)) on the PIL image (Pillow bilinear, antialiased), as uint8 HWC, and after
ToTensor + Normalize(ImageNet mean/std) as float32 HWC. The independent reference for the
image-folder route of lib/train/data.ts (tests/data/image_folder_test.ts).

PNG only, so that every decoder gives the same pixels. Run with Debian's Python:
  /usr/bin/python3 tools/data_make_folder_fixture.py
"""
import base64
import json
import os
import shutil

import numpy as np
import PIL
from PIL import Image
import torch
import torchvision
from torchvision import transforms

SIZE = 40
root = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "fixtures")
out_dir = os.path.join(root, "folder_odd")
rng = np.random.default_rng(20211207)


def image(h, w, grey):
    # smooth gradient + noise: varied content, small PNGs
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([(xx * 255 // max(1, w - 1)), (yy * 255 // max(1, h - 1)),
                     ((xx + yy) * 127 // max(1, h + w - 2))], axis=-1)
    arr = np.clip(base + rng.integers(-40, 41, size=(h, w, 3)), 0, 255).astype(np.uint8)
    if grey:
        return Image.fromarray(arr[:, :, 0], mode="L")
    return Image.fromarray(arr, mode="RGB")


# (split, class, file, height, width, grey)
spec = [
    ("train", "angry", "a0.png", 64, 64, False),
    ("train", "angry", "a1.png", 53, 37, False),
    ("train", "happy", "h0.png", 90, 120, False),
    ("train", "happy", "h1.png", 64, 64, True),
    ("test", "angry", "t0.png", 90, 120, False),
    ("test", "happy", "t1.png", 53, 37, True),
]
if os.path.exists(out_dir):
    shutil.rmtree(out_dir)
norm = transforms.Compose([transforms.ToTensor(),
                           transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
resize = transforms.Resize((SIZE, SIZE))
expected = []
for split, cls, name, h, w, grey in spec:
    d = os.path.join(out_dir, split, cls)
    os.makedirs(d, exist_ok=True)
    p = os.path.join(d, name)
    image(h, w, grey).save(p)
    # the official dataset reads the file and hands torchvision a PIL RGB image
    img = Image.open(p).convert("RGB")
    r = resize(img)
    u8 = np.asarray(r, dtype=np.uint8)
    x = norm(r).permute(1, 2, 0).contiguous().numpy().astype(np.float32)
    expected.append({
        "split": split, "file": f"{cls}/{name}", "height": h, "width": w, "grey": grey,
        "pixels": base64.b64encode(u8.tobytes()).decode(),
        "normalized": base64.b64encode(x.tobytes()).decode(),
    })

doc = {
    "generator": "tools/data_make_folder_fixture.py",
    "versions": {"pillow": PIL.__version__, "torch": torch.__version__, "torchvision": torchvision.__version__},
    "size": SIZE,
    "images": expected,
}
path = os.path.join(root, "folder_odd_expected.json")
with open(path + ".tmp", "w") as f:
    json.dump(doc, f, indent=2)
    f.write("\n")
os.replace(path + ".tmp", path)
print("wrote", os.path.normpath(out_dir), "and", os.path.normpath(path))
