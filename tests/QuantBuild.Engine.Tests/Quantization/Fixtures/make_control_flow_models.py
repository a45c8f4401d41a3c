#!/usr/bin/python3
"""Writes the Loop and Scan models the body-quantization tests calibrate and quantize (BodyQuantizationTests).

Run with Debian's interpreter (python3-torch, python3-onnx from apt):
    /usr/bin/python3 tests/QuantBuild.Engine.Tests/Quantization/Fixtures/make_control_flow_models.py
The .onnx files are committed (together < 100 KB), like make_torch_models.py's, so CI needs no torch; rerun only to
change a model. Seeds are fixed; the tests compare with fp32, there is no task.

loop_rnn.onnx      x float32 [batch,T,32] -> y [batch,10]: a hand-written RNN, torch.jit.script'ed so the time loop
                   exports as an ONNX Loop (trip count Shape(x)[1]) whose body reads x[:, t] and the carried h through
                   two Linears (MatMul on the outer-scope weights) and tanh; a Linear head after the loop.
loop_if.onnx       the same with an If inside the body: even steps take one pair of Linears and tanh, odd steps
                   another pair and relu (both branches run on any T >= 2).
scan_rnn.onnx      x float32 [batch,T,8] -> y [batch,T,16], h [batch,16]: a Scan built with onnx.helper over axis 1
                   (scan_input_axes/scan_output_axes given), body h' = tanh(x_t·Wx + h·Wh + b) with Wx a body
                   initializer, Wh an outer-scope initializer and b a Constant node in the body.
loop_growing.onnx  x float32 [batch,16] -> y [batch,16]: a Loop of 3 steps whose carried seq [batch,t,16] grows by one
                   row per step (Concat); the body's MatMul on seq has an output whose shape changes every iteration,
                   the MatMul on the new row does not.
"""
import os

import numpy as np
import onnx
import torch
import torch.nn as nn
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))


class LoopRnn(nn.Module):
    def __init__(self, d_in: int = 32, hidden: int = 64, classes: int = 10):
        super().__init__()
        self.hidden = hidden
        self.wx, self.wh = nn.Linear(d_in, hidden), nn.Linear(hidden, hidden, bias=False)
        self.out = nn.Linear(hidden, classes)

    def forward(self, x):
        h = torch.zeros(x.size(0), self.hidden)
        for t in range(x.size(1)):
            h = torch.tanh(self.wx(x[:, t]) + self.wh(h))
        return self.out(h)


class LoopIf(nn.Module):
    def __init__(self, d_in: int = 32, hidden: int = 64, classes: int = 10):
        super().__init__()
        self.hidden = hidden
        self.wx, self.wh = nn.Linear(d_in, hidden), nn.Linear(hidden, hidden, bias=False)
        self.vx, self.vh = nn.Linear(d_in, hidden), nn.Linear(hidden, hidden, bias=False)
        self.out = nn.Linear(hidden, classes)

    def forward(self, x):
        h = torch.zeros(x.size(0), self.hidden)
        for t in range(x.size(1)):
            if t % 2 == 0:
                h = torch.tanh(self.wx(x[:, t]) + self.wh(h))
            else:
                h = torch.relu(self.vx(x[:, t]) + self.vh(h)) * 0.5
        return self.out(h)


def export_scripted(model, name):
    model.eval()
    scripted = torch.jit.script(model)
    torch.onnx.export(scripted, (torch.randn(2, 5, 32),), os.path.join(HERE, name), opset_version=17, input_names=["x"],
                      output_names=["y"], dynamic_axes={"x": {0: "batch", 1: "steps"}, "y": {0: "batch"}})


def weight(rng, name, *shape, scale=0.3):
    return numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32), name)


def scan_rnn(rng):
    body = helper.make_graph(
        [
            helper.make_node("Constant", [], ["b"], name="scan_bias", value=weight(rng, "b", 16, scale=0.1)),
            helper.make_node("MatMul", ["x_t", "Wx"], ["xw"], name="scan_x_matmul"),
            helper.make_node("MatMul", ["h_in", "Wh"], ["hw"], name="scan_h_matmul"),
            helper.make_node("Add", ["xw", "hw"], ["pre"], name="scan_add"),
            helper.make_node("Add", ["pre", "b"], ["pre_b"], name="scan_add_bias"),
            helper.make_node("Tanh", ["pre_b"], ["h_out"], name="scan_tanh"),
            helper.make_node("Identity", ["h_out"], ["y_t"], name="scan_y"),
        ],
        "scan_body",
        [helper.make_tensor_value_info("h_in", TensorProto.FLOAT, ["batch", 16]),
         helper.make_tensor_value_info("x_t", TensorProto.FLOAT, ["batch", 8])],
        [helper.make_tensor_value_info("h_out", TensorProto.FLOAT, ["batch", 16]),
         helper.make_tensor_value_info("y_t", TensorProto.FLOAT, ["batch", 16])],
        initializer=[weight(rng, "Wx", 8, 16)],
    )
    graph = helper.make_graph(
        [
            helper.make_node("Shape", ["x"], ["x_shape"], name="batch_shape", start=0, end=1),
            helper.make_node("Concat", ["x_shape", "hidden"], ["h0_shape"], name="h0_shape", axis=0),
            helper.make_node("ConstantOfShape", ["h0_shape"], ["h0"], name="h0",
                             value=numpy_helper.from_array(np.zeros(1, np.float32))),
            helper.make_node("Scan", ["h0", "x"], ["h", "y"], name="scan", body=body, num_scan_inputs=1,
                             scan_input_axes=[1], scan_output_axes=[1]),
        ],
        "scan_rnn",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "steps", 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", "steps", 16]),
         helper.make_tensor_value_info("h", TensorProto.FLOAT, ["batch", 16])],
        initializer=[weight(rng, "Wh", 16, 16), numpy_helper.from_array(np.array([16], np.int64), "hidden")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def loop_growing(rng):
    body = helper.make_graph(
        [
            helper.make_node("MatMul", ["seq_in", "W"], ["seq_w"], name="grow_seq_matmul"),
            helper.make_node("Relu", ["seq_w"], ["seq_relu"], name="grow_seq_relu"),
            helper.make_node("ReduceMean", ["seq_relu"], ["row"], name="grow_mean", axes=[1], keepdims=1),
            helper.make_node("MatMul", ["row", "V"], ["row_v"], name="grow_row_matmul"),
            helper.make_node("Tanh", ["row_v"], ["row_out"], name="grow_tanh"),
            helper.make_node("Concat", ["seq_in", "row_out"], ["seq_out"], name="grow_concat", axis=1),
            helper.make_node("Identity", ["cond_in"], ["cond_out"], name="grow_cond"),
        ],
        "grow_body",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
         helper.make_tensor_value_info("seq_in", TensorProto.FLOAT, ["batch", None, 16])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("seq_out", TensorProto.FLOAT, ["batch", None, 16])],
    )
    graph = helper.make_graph(
        [
            helper.make_node("Unsqueeze", ["x", "one"], ["seq0"], name="seq0"),
            helper.make_node("Loop", ["steps", "", "seq0"], ["seq"], name="grow", body=body),
            helper.make_node("ReduceMean", ["seq"], ["y"], name="pool", axes=[1], keepdims=0),
        ],
        "loop_growing",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 16])],
        initializer=[weight(rng, "W", 16, 16), weight(rng, "V", 16, 16),
                     numpy_helper.from_array(np.array([1], np.int64), "one"),
                     numpy_helper.from_array(np.array(3, np.int64), "steps")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def main():
    torch.manual_seed(1234)
    with torch.no_grad():
        export_scripted(LoopRnn(), "loop_rnn.onnx")
        export_scripted(LoopIf(), "loop_if.onnx")
    rng = np.random.default_rng(1234)
    for name, model in (("scan_rnn.onnx", scan_rnn(rng)), ("loop_growing.onnx", loop_growing(rng))):
        onnx.checker.check_model(model, full_check=True)
        onnx.save(model, os.path.join(HERE, name))


if __name__ == "__main__":
    main()
