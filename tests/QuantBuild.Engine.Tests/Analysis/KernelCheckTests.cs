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

    [Fact]
    public void An_op_that_reads_a_dequantize_and_feeds_a_quantize_is_a_float_round_trip()
    {
        var graph = new Graph();
        graph.Nodes.Add(Node("DequantizeLinear", "dq_x", new[] { "x_q", "x_s" }, "x"));
        graph.Nodes.Add(Node("HardSwish", "hswish", new[] { "x" }, "h"));
        graph.Nodes.Add(Node("QuantizeLinear", "q_h", new[] { "h", "h_s" }, "h_q"));
        graph.Nodes.Add(Node("Sigmoid", "head", new[] { "x" }, "probabilities"));

        UnfusedNode only = Assert.Single(KernelCheck.Unfused(graph));

        Assert.Equal("hswish", only.Node);
        Assert.Equal("x", only.DequantizedInput);
        Assert.StartsWith("ran in float between a DequantizeLinear and a QuantizeLinear", only.Reason);
    }

    [Fact]
    public void A_layer_inside_a_Loop_body_running_in_float_on_a_weight_dequantized_outside_it_is_found()
    {
        var body = new Graph { Name = "body" };
        body.Nodes.Add(Node("QLinearMatMul", "fused", new[] { "h_q", "h_s" }, "y_q"));
        body.Nodes.Add(Node("MatMul", "body_unfused", new[] { "h", "w" }, "y"));
        var graph = new Graph();
        graph.Nodes.Add(Node("DequantizeLinear", "dq_w", new[] { "w_q", "w_s" }, "w"));
        Node loop = Node("Loop", "loop", new[] { "n", "", "h0" }, "h_final");
        loop.Attributes.Add(NodeAttribute.FromGraph("body", body));
        graph.Nodes.Add(loop);

        UnfusedNode only = Assert.Single(KernelCheck.Unfused(graph));

        Assert.Equal("body_unfused", only.Node);
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
