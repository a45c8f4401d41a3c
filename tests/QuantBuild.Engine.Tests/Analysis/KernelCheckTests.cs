using QuantBuild.Abstractions.Ir;
using QuantBuild.Engine.Analysis;

namespace QuantBuild.Engine.Tests.Analysis;

public sealed class KernelCheckTests
{
    [Fact]
    public void A_float_conv_whose_weight_is_dequantized_is_unfused_but_one_reading_a_dequantized_activation_is_not()
    {
        var graph = new Graph();
        graph.Nodes.Add(Node("DequantizeLinear", "dq_w", new[] { "w_q", "w_s" }, "w"));
        graph.Nodes.Add(Node("DequantizeLinear", "dq_x", new[] { "x_q", "x_s" }, "x"));
        graph.Nodes.Add(Node("Conv", "conv_unfused", new[] { "x", "w" }, "y"));
        graph.Nodes.Add(Node("MatMul", "kept_fp32", new[] { "x", "w_float" }, "z"));
        graph.Nodes.Add(Node("QLinearConv", "fused", new[] { "x_q", "x_s" }, "q"));

        IReadOnlyList<UnfusedNode> unfused = KernelCheck.Unfused(graph);

        UnfusedNode only = Assert.Single(unfused);
        Assert.Equal("conv_unfused", only.Node);
        Assert.Equal("w", only.DequantizedInput);
    }

    private static Node Node(string op, string name, string[] inputs, string output)
    {
        var node = new Node { OpType = op, Name = name };
        node.Inputs.AddRange(inputs);
        node.Outputs.Add(output);
        return node;
    }
}
