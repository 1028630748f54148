#!/usr/bin/python3
"""Reference for the multi-batch evaluation tests (tests/train/evaluate_test.ts, tests/cli/eval_test.ts):
PyTorch's eval-mode outputs of the fixture RUL model (tests/fixtures/model/rul_small.pth, built by
tools/make_fixtures.py) on 10 uint8 images, so that an evaluation in batches of 4 (4 + 4 + a
partial 2) can be compared sample by sample with a reference that knows nothing of batches.

    /usr/bin/python3 tools/make_eval_fixture.py    # writes tests/fixtures/model/eval_batches.safetensors

The images are 64 px (the model's input size, so the test transform is only the scaling and the
ImageNet normalisation, done here as torchvision's ToTensor + Normalize do it). The labels are
chosen from PyTorch's own predictions so that the accuracy is known and not trivial: sample i is
labelled with the predicted class when i % 3 != 2, else with the next class (7 of 10 right);
a batch-offset mistake in the evaluation pairs predictions with the wrong labels.
Everything is computed in float64 and stored as float32.
"""
import collections
import os

import torch
import torch.nn.functional as F
import torchvision.transforms.functional as TF

from make_fixtures import CLASSES, DIM, INPUT, OUT, WIDTHS, Res18Feature, write_safetensors

N = 10
MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]


def main():
    sd = torch.load(os.path.join(OUT, "rul_small.pth"))["state_dict"]
    model = Res18Feature(WIDTHS, INPUT, num_classes=CLASSES, drop_rate=0.0, out_dim=DIM)
    model.load_state_dict(sd, strict=True)
    model = model.double().eval()
    gen = torch.Generator().manual_seed(24)
    pixels = torch.randint(0, 256, (N, INPUT, INPUT, 3), generator=gen, dtype=torch.uint8)
    # torchvision's ToTensor (HWC uint8 -> CHW in [0, 1]) and Normalize
    x = torch.stack([TF.normalize(TF.to_tensor(p.numpy()), MEAN, STD) for p in pixels]).double()
    with torch.no_grad():
        logits, mu, u = model.forward_eval(x)
    pred = logits.argmax(1)
    labels = torch.tensor([int(p) if i % 3 != 2 else (int(p) + 1) % CLASSES
                           for i, p in enumerate(pred)])
    acc = (pred == labels).double().mean()
    loss = F.cross_entropy(logits, labels)
    out = collections.OrderedDict()
    out["pixels"] = pixels
    out["labels"] = labels.to(torch.int32)
    out["x"] = x.permute(0, 2, 3, 1).contiguous().float()
    out["logits"] = logits.float()
    out["mu"] = mu.float()
    out["u"] = u.float()
    out["predictions"] = pred.to(torch.int32)
    out["accuracy"] = acc.float().reshape([])
    out["loss"] = loss.float().reshape([])
    path = os.path.join(OUT, "eval_batches.safetensors")
    write_safetensors(path, out, {"generator": "tools/make_eval_fixture.py",
                                  "torch": torch.__version__, "weights": "rul_small.pth",
                                  "reference_precision": "float64"})
    # the margin of every prediction (a float32 engine must not flip one)
    top2 = logits.topk(2, dim=1).values
    print(f"{path}: accuracy {acc.item():.2f}, loss {loss.item():.6f}, "
          f"smallest top-1 margin {(top2[:, 0] - top2[:, 1]).min().item():.2e}")


if __name__ == "__main__":
    main()
