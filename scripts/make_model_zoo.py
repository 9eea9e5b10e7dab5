"""Makes the whole-model test set as ONNX files, with Debian's PyTorch and torchvision.

    /usr/bin/python3 scripts/make_model_zoo.py OUTDIR [NAME ...]

Random weights from fixed seeds. For the CNNs, BatchNorm statistics are
re-estimated on random data before export (train-mode passes with momentum
None), so that activations stay of order 1 instead of shrinking towards 1e-9 and
denormals, and comparisons with ONNX Runtime mean something. Each model is
exported with a symbolic batch dimension. Also writes OUTDIR/NAME.input.npy, a
fixed random input at batch 1.
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn

OPSET = 17


def reestimate_batchnorm(model, shape, batches=8):
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.reset_running_stats()
            m.momentum = None  # cumulative average over the passes below
    model.train()
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for _ in range(batches):
            model(torch.randn(shape, generator=g))
    model.eval()


def cnn(factory, size=224):
    def make():
        torch.manual_seed(0)
        m = factory(weights=None)
        reestimate_batchnorm(m, (8, 3, size, size))
        return m, (1, 3, size, size)
    return make


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(),
                                 nn.Linear(256, 10))

    def forward(self, x):
        return torch.softmax(self.net(x), dim=-1)


def mlp():
    torch.manual_seed(0)
    return MLP().eval(), (1, 784)


class Encoder(nn.Module):
    """2 layers, width 256, 4 heads, GELU feed-forward; input [batch, 128, 256]."""

    def __init__(self):
        super().__init__()
        layer = nn.TransformerEncoderLayer(d_model=256, nhead=4, dim_feedforward=1024, dropout=0.0,
                                           activation="gelu", batch_first=True)
        self.enc = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(256)

    def forward(self, x):
        return self.norm(self.enc(x))


def transformer():
    torch.manual_seed(0)
    return Encoder().eval(), (1, 128, 256)


def zoo():
    import torchvision.models as tvm
    return {
        "mobilenet_v2": cnn(tvm.mobilenet_v2),
        "mobilenet_v3_small": cnn(tvm.mobilenet_v3_small),
        "resnet18": cnn(tvm.resnet18),
        "squeezenet1_1": cnn(tvm.squeezenet1_1),
        "efficientnet_b0": cnn(tvm.efficientnet_b0),
        "mlp": mlp,
        "transformer": transformer,
    }


def export(name, make, out):
    model, shape = make()
    x = torch.randn(shape, generator=torch.Generator().manual_seed(42))
    path = os.path.join(out, name + ".onnx")
    # Gradients stay enabled: under no_grad, TransformerEncoderLayer takes a fused
    # fast path that does not export.
    torch.onnx.export(model, x, path, input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
                      opset_version=OPSET, do_constant_folding=True)
    np.save(os.path.join(out, name + ".input.npy"), x.numpy().astype(np.float32))
    return path


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    models = zoo()
    names = sys.argv[2:] or list(models)
    for n in names:
        if n not in models:
            sys.exit("unknown model %s; known: %s" % (n, ", ".join(models)))
        print(export(n, models[n], out))


if __name__ == "__main__":
    main()
