#!/usr/bin/python3
"""Writes the torch-exported models the dynamic-activation and fp16 tests quantize.

Run with Debian's interpreter (python3-torch, python3-onnx from apt):
    /usr/bin/python3 tests/QuantBuild.Engine.Tests/Quantization/Fixtures/make_torch_models.py
The .onnx files are committed (together < 200 KB), like the samples' exports, so CI needs no torch; rerun only to
change a model. Seeds are fixed; weights are torch's default initialisation (the tests compare with fp32, no task).

transformer_block.onnx  x float32 [batch,16,32] -> logits [batch,10]: a pre-LN block (4-head attention, GELU FFN)
                        whose linears export as MatMul+Add, then mean over positions and a 2-D Linear (Gemm).
lstm.onnx               x float32 [batch,12,8] -> y [batch,5]: LSTM(8->16, batch_first) and a Linear on the last step.
gru_rnn.onnx            x float32 [batch,20,16] -> y [batch,5]: a bidirectional GRU(16->32), an RNN(64->24, tanh), a GRU
                        (24->24), all batch_first, and a Linear on the last step: every form torch exports them in.
mlp.onnx                x float32 [batch,32] -> y [batch,10]: three Linears (Gemm); a LayerNorm after the first, so
                        an outlier in x reaches only fc1's input range (the fallback test's calibration outlier).
fp16_convnet.onnx       x float16 [batch,3,16,16] -> logits float16 [batch,4]: model.half() of Conv-ReLU-Conv-ReLU-
                        GlobalAveragePool-Linear. torch 1.13 has no CPU float16 kernels for conv, relu or addmm, so
                        those run through a Function that computes in fp32 during export and exports the standard op
                        (symbolic); the exported graph, weights and interface are float16 as model.half() makes them.
"""
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))


class Block(nn.Module):
    def __init__(self, d=32, heads=4, seq=16, classes=10):
        super().__init__()
        self.heads, self.d = heads, d
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.q, self.k, self.v, self.proj = (nn.Linear(d, d) for _ in range(4))
        self.fc1, self.fc2 = nn.Linear(d, 2 * d), nn.Linear(2 * d, d)
        self.head = nn.Linear(d, classes)

    def forward(self, x):
        b, t, d = x.shape
        h = self.ln1(x)
        split = lambda z: z.reshape(b, t, self.heads, d // self.heads).transpose(1, 2)
        q, k, v = split(self.q(h)), split(self.k(h)), split(self.v(h))
        a = torch.softmax(q @ k.transpose(-1, -2) / (d // self.heads) ** 0.5, dim=-1) @ v
        x = x + self.proj(a.transpose(1, 2).reshape(b, t, d))
        x = x + self.fc2(F.gelu(self.fc1(self.ln2(x))))
        return self.head(x.mean(dim=1))


class Recurrent(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(8, 16, batch_first=True)
        self.out = nn.Linear(16, 5)

    def forward(self, x):
        y, _ = self.lstm(x)
        return self.out(y[:, -1, :])


class GruRnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru1 = nn.GRU(16, 32, batch_first=True, bidirectional=True)
        self.rnn = nn.RNN(64, 24, batch_first=True)
        self.gru2 = nn.GRU(24, 24, batch_first=True)
        self.fc = nn.Linear(24, 5)

    def forward(self, x):
        y, _ = self.gru1(x)
        y, _ = self.rnn(y)
        y, _ = self.gru2(y)
        return self.fc(y[:, -1])


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.fc3 = nn.Linear(32, 64), nn.Linear(64, 64), nn.Linear(64, 10)
        self.norm = nn.LayerNorm(64)

    def forward(self, x):
        return self.fc3(F.relu(self.fc2(F.relu(self.norm(self.fc1(x))))))


class HalfConv(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, b):
        return F.conv2d(x.float(), w.float(), b.float(), padding=1).half()

    @staticmethod
    def symbolic(g, x, w, b):
        return g.op("Conv", x, w, b, pads_i=[1, 1, 1, 1], kernel_shape_i=[3, 3])


class HalfRelu(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return F.relu(x.float()).half()

    @staticmethod
    def symbolic(g, x):
        return g.op("Relu", x)


class HalfLinear(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, b):
        return F.linear(x.float(), w.float(), b.float()).half()

    @staticmethod
    def symbolic(g, x, w, b):
        return g.op("Gemm", x, w, b, transB_i=1)


class ConvNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1, self.c2 = nn.Conv2d(3, 8, 3, padding=1), nn.Conv2d(8, 16, 3, padding=1)
        self.fc = nn.Linear(16, 4)

    def forward(self, x):
        x = HalfRelu.apply(HalfConv.apply(x, self.c1.weight, self.c1.bias))
        x = HalfRelu.apply(HalfConv.apply(x, self.c2.weight, self.c2.bias))
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return HalfLinear.apply(x, self.fc.weight, self.fc.bias)


def export(model, example, name, inp, out):
    model.eval()
    torch.onnx.export(model, example, os.path.join(HERE, name), opset_version=17, input_names=[inp], output_names=[out],
                      dynamic_axes={inp: {0: "batch"}, out: {0: "batch"}}, do_constant_folding=True)


def main():
    torch.manual_seed(1234)
    with torch.no_grad():
        export(Block(), torch.randn(2, 16, 32), "transformer_block.onnx", "x", "logits")
        export(Recurrent(), torch.randn(2, 12, 8), "lstm.onnx", "x", "y")
        export(Mlp(), torch.randn(2, 32), "mlp.onnx", "x", "y")
        export(ConvNet().half(), torch.randn(2, 3, 16, 16).half(), "fp16_convnet.onnx", "x", "logits")
        export(GruRnn(), torch.randn(2, 20, 16), "gru_rnn.onnx", "x", "y")


if __name__ == "__main__":
    main()
