#!/usr/bin/python3
"""Trains the demo model: a small classifier of scikit-learn's 8x8 digits.

    /usr/bin/python3 scripts/train_digits.py [out_dir]   (default models/)

Writes
  digits.onnx      the PyTorch model through torch.onnx.export (opset 17,
                   dynamic batch): input "image" f32 [batch,1,8,8] (pixels / 16,
                   so in [0, 1]), output "probs" f32 [batch,10]; Flatten -> Linear
                   64->64 -> ReLU -> Linear 64->32 -> ReLU -> Linear 32->10 -> Softmax
  digits.ember     digits.onnx converted by ember.convert, with name, version,
                   description and the labels "0".."9" in its metadata
  digits_test.bin  the held-out 20% in the record format of tests/models/README.md:
                   "images" f32 [N,1,8,8] and "labels" i64 [N]

Needs numpy, torch and scikit-learn (Debian: python3-torch python3-sklearn).
Seeded and single-threaded, so a rerun writes the same files.
"""
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))
sys.path.insert(0, os.path.join(ROOT, "scripts"))

from ember.convert import convert  # noqa: E402
from ember.format import read  # noqa: E402
from make_test_models import write_records  # noqa: E402

SEED = 20240601


def main():
    import torch
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "models")
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)

    digits = load_digits()
    x = (digits.images.astype(np.float32) / 16.0).reshape(-1, 1, 8, 8)
    y = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.2, stratify=y, random_state=SEED % (2 ** 31))

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = torch.nn.Linear(64, 64)
            self.fc2 = torch.nn.Linear(64, 32)
            self.fc3 = torch.nn.Linear(32, 10)

        def logits(self, image):
            h = torch.flatten(image, 1)
            h = torch.relu(self.fc1(h))
            h = torch.relu(self.fc2(h))
            return self.fc3(h)

        def forward(self, image):
            return torch.softmax(self.logits(image), dim=-1)

    net = Net()
    opt = torch.optim.Adam(net.parameters(), lr=3e-3, weight_decay=1e-4)
    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)
    gen = torch.Generator().manual_seed(SEED)
    for epoch in range(60):
        perm = torch.randperm(len(xt), generator=gen)
        for i in range(0, len(xt), 32):
            idx = perm[i:i + 32]
            loss = torch.nn.functional.cross_entropy(net.logits(xt[idx]), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    net.eval()
    with torch.no_grad():
        train_acc = (net(xt).argmax(1).numpy() == y_train).mean()
        probs_torch = net(torch.from_numpy(x_test)).numpy()
    acc = (probs_torch.argmax(1) == y_test).mean()
    print("train accuracy %.4f (%d images)" % (train_acc, len(y_train)))
    print("held-out accuracy (torch) %.4f (%d of %d images)"
          % (acc, (probs_torch.argmax(1) == y_test).sum(), len(y_test)))
    assert acc >= 0.95, "held-out accuracy below 95%"

    # ONNX, then .ember through the converter, as a user would do it
    onnx_path = os.path.join(out, "digits.onnx")
    torch.onnx.export(net, torch.from_numpy(x_test[:1]), onnx_path, opset_version=17,
                      input_names=["image"], output_names=["probs"],
                      dynamic_axes={"image": {0: "batch"}, "probs": {0: "batch"}},
                      do_constant_folding=True)
    print("wrote %s (%d bytes)" % (onnx_path, os.path.getsize(onnx_path)))
    path = os.path.join(out, "digits.ember")
    convert(onnx_path, path, name="digits", version="1.0",
            labels=[str(i) for i in range(10)],
            description="Handwritten digit classifier (scikit-learn 8x8 digits, pixels / 16); "
                        "MLP 64-64-32-10, held-out accuracy %.4f" % acc)
    print("wrote %s (%d bytes)" % (path, os.path.getsize(path)))

    # check the file against the torch model with an independent numpy forward pass
    m = read(path)
    w = {t["name"]: t["data"].astype(np.float64) for t in m["tensors"] if t["constant"]}
    h = x_test.reshape(len(x_test), 64).astype(np.float64)
    h = np.maximum(h @ w["fc1.weight"].T + w["fc1.bias"], 0)
    h = np.maximum(h @ w["fc2.weight"].T + w["fc2.bias"], 0)
    z = h @ w["fc3.weight"].T + w["fc3.bias"]
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    print("held-out accuracy (numpy from digits.ember) %.4f, max |p - p_torch| %.2e"
          % ((p.argmax(1) == y_test).mean(), np.abs(p - probs_torch).max()))
    assert np.abs(p - probs_torch).max() < 1e-5

    write_records(os.path.join(out, "digits_test.bin"),
                  [("images", x_test.astype(np.float32)), ("labels", y_test.astype(np.int64))])
    print("wrote %s (%d images)" % (os.path.join(out, "digits_test.bin"), len(y_test)))


if __name__ == "__main__":
    main()
