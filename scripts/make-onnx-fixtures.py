#!/usr/bin/env python3
"""Makes the ONNX test fixtures with PyTorch's own exporter (torch.onnx.export).

Run from the repository root with Debian's python3-torch (`apt-get install -y python3-torch`):

    /usr/bin/python3 scripts/make-onnx-fixtures.py

For each network it writes test/fixtures/onnx/<name>-opset<k>.onnx, and once per network
<name>.json with the inputs (NCHW rows, as PyTorch takes them), PyTorch's outputs on them (the
model in float64, so the reference is not itself a float32 approximation) and the provenance.
Tests and CI read these files; they never need PyTorch.
"""
import json
import os
import sys

import torch
from torch import nn

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'onnx')
ROWS = 6


def randomise_bn(model, gen):
    """Trained-looking BatchNorm statistics, so that BN is not the identity."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=gen) * 0.5)
            m.running_var.copy_(torch.rand(m.num_features, generator=gen) * 1.5 + 0.5)
            m.weight.data.copy_(torch.randn(m.num_features, generator=gen) * 0.3 + 1.0)
            m.bias.data.copy_(torch.randn(m.num_features, generator=gen) * 0.2)


class Mlp(nn.Module):
    """Gemm layers, and one layer written as x @ W + b (exported as MatMul then Add)."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(13, 16), nn.Tanh(), nn.Linear(16, 8), nn.ReLU())
        self.w = nn.Parameter(torch.zeros(8, 3))
        self.b = nn.Parameter(torch.zeros(3))

    def forward(self, x):
        return torch.softmax(self.net(x) @ self.w + self.b, dim=1)


class LeNet(nn.Module):
    """LeNet-5 as the [graph] issue defines it: Conv 6 5x5 same, pool, Conv 16 5x5 valid, pool, Dense 120, 84, 10."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.AvgPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Dropout(0.2), nn.Linear(120, 84), nn.Sigmoid(), nn.Linear(84, 10)
        )

    def forward(self, x):
        # reshape with a constant shape (exported as Reshape [-1, 400]), not nn.Flatten
        return self.classifier(self.features(x).reshape(-1, 16 * 5 * 5))


class DepthwiseBn(nn.Module):
    """Stride-2 conv (PyTorch's symmetric padding), BN, depthwise conv (multiplier 2), BN, ZeroPad2d, GAP, Dense, softmax."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(3, 4, 3, stride=2, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
            nn.Conv2d(4, 8, 3, padding=1, groups=4, bias=False), nn.BatchNorm2d(8), nn.LeakyReLU(0.1),
            nn.BatchNorm2d(8),  # after an activation: the exporter cannot fold it into a Conv
            nn.ZeroPad2d((1, 0, 2, 1)), nn.Conv2d(8, 6, 3), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
        )
        self.head = nn.Linear(6, 5)

    def forward(self, x):
        return torch.softmax(self.head(torch.flatten(self.body(x), 1)), dim=1)


class Residual(nn.Module):
    """Two residual blocks with BN and an Add skip, a channel concatenation, global average pooling."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(2, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU())
        self.b1 = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
                                nn.Conv2d(8, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8))
        self.down = nn.Sequential(nn.Conv2d(8, 12, 3, stride=2, padding=1), nn.BatchNorm2d(12))
        self.side = nn.Conv2d(8, 4, 1, stride=2)
        self.bn = nn.BatchNorm2d(8)
        self.pool = nn.MaxPool2d(3, stride=1, padding=1)
        self.head = nn.Linear(16, 4)

    def forward(self, x):
        x = self.stem(x)
        x = self.bn(torch.relu(x + self.b1(x)))
        y = torch.cat([torch.relu(self.down(x)), self.side(x)], dim=1)
        y = self.pool(y)
        y = nn.functional.adaptive_avg_pool2d(y, 1).flatten(1)
        return self.head(y)


# (name, module, input shape without the batch, opsets exported: 11 to 17 between them)
NETS = [
    ('mlp', Mlp, [13], [11, 13, 17]),
    ('lenet', LeNet, [1, 28, 28], [13]),
    ('dwbn', DepthwiseBn, [3, 15, 13], [11, 17]),
    ('resnet', Residual, [2, 10, 10], [11, 13, 17]),
]


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.set_num_threads(1)
    for i, (name, cls, shape, opsets) in enumerate(NETS):
        gen = torch.Generator().manual_seed(1000 + i)
        torch.manual_seed(1000 + i)
        model = cls()
        with torch.no_grad():
            for p in model.parameters():
                p.copy_(torch.randn(p.shape, generator=gen) * (1.0 / max(1, p[0].numel()) ** 0.5))
            randomise_bn(model, gen)
        model.eval()
        x = torch.randn([ROWS] + shape, generator=gen)
        for opset in opsets:
            torch.onnx.export(
                model, x[:1], os.path.join(OUT, f'{name}-opset{opset}.onnx'), opset_version=opset,
                input_names=['input'], output_names=['output'],
                dynamic_axes={'input': {0: 'batch'}, 'output': {0: 'batch'}},
            )
        with torch.no_grad():
            ref = model.double()(x.double())
        record = {
            'model': name,
            'files': [f'{name}-opset{k}.onnx' for k in opsets],
            'input_shape': shape,
            'input_layout': 'NCHW' if len(shape) == 3 else 'features',
            'inputs': x.reshape(ROWS, -1).tolist(),
            'outputs': ref.reshape(ROWS, -1).tolist(),
            'provenance': {
                'made_by': 'scripts/make-onnx-fixtures.py',
                'torch': torch.__version__,
                'python': sys.version.split()[0],
                'exporter': 'torch.onnx.export (constant folding on, dynamic batch axis)',
                'seed': 1000 + i,
                'reference': 'the same PyTorch module in float64 on the float32 inputs',
            },
        }
        with open(os.path.join(OUT, f'{name}.json'), 'w') as f:
            json.dump(record, f)
        print(name, 'ok', list(ref.shape))


if __name__ == '__main__':
    main()
