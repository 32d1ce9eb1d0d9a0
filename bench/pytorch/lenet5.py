"""PyTorch reference for bench/convTraining.ts: LeNet-5 as PruneScope's lenet5 builder makes it
(Conv 6 5x5 same, max pool 2, Conv 16 5x5 valid, max pool 2, Dense 120, 84, 10), Adam 1e-3,
cross-entropy, batch 128, on one thread. Reads the data the bench wrote (float32 pixels
[rows, 784], float32 labels [rows]); then answers each line "epoch" on stdin with one JSON line
{"cpu": seconds, "wall": seconds} for one shuffled epoch. Not used by the tests."""
import json
import sys
import time

import numpy as np
import torch

torch.set_num_threads(1)
torch.set_num_interop_threads(1)
x_path, y_path, rows, act, batch = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
X = torch.from_numpy(np.fromfile(x_path, dtype=np.float32).reshape(rows, 1, 28, 28).copy())
Y = torch.from_numpy(np.fromfile(y_path, dtype=np.float32).astype(np.int64))
A = torch.nn.ReLU if act == "relu" else torch.nn.Tanh
torch.manual_seed(1)
net = torch.nn.Sequential(
    torch.nn.Conv2d(1, 6, 5, padding=2), A(), torch.nn.MaxPool2d(2),
    torch.nn.Conv2d(6, 16, 5), A(), torch.nn.MaxPool2d(2), torch.nn.Flatten(),
    torch.nn.Linear(400, 120), A(), torch.nn.Linear(120, 84), A(), torch.nn.Linear(84, 10))
opt = torch.optim.Adam(net.parameters(), 1e-3)
loss_fn = torch.nn.CrossEntropyLoss()


def epoch():
    perm = torch.randperm(rows)
    for i in range(0, rows - batch + 1, batch):
        idx = perm[i:i + batch]
        opt.zero_grad()
        loss_fn(net(X[idx]), Y[idx]).backward()
        opt.step()


epoch()  # warm-up
print(json.dumps({"ready": torch.__version__}), flush=True)
for line in sys.stdin:
    if line.strip() != "epoch":
        break
    c0, w0 = time.process_time(), time.time()
    epoch()
    print(json.dumps({"cpu": time.process_time() - c0, "wall": time.time() - w0}), flush=True)
