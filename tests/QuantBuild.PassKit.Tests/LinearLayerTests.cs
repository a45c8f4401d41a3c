using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.PassKit.Tests;

/// <summary>One view of a linear layer's weight, whatever the op's layout and wherever the exporter put the weight.</summary>
public sealed class LinearLayerTests
{
    public static TheoryData<string, int, bool> Layouts => new()
    {
        { "MatMul", 0, false },
        { "MatMul", 0, true },
        { "Gemm", 0, false },
        { "Gemm", 1, false },
        { "Gemm", 1, true },
    };

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Row_o_of_the_matrix_is_what_output_channel_o_multiplies(string op, int transB, bool asConstantNode)
    {
        const int inputs = 5, outputs = 3, batch = 4;
        float[] w = OrtModels.Values(inputs * outputs, 3);
        long[] dims = transB == 1 ? [outputs, inputs] : [inputs, outputs];
        Node node = OrtModels.Node(op, ["x", "w"], op == "Gemm" ? [NodeAttribute.FromInt("transB", transB)] : []);
        OnnxModel model = OrtModels.Single(node, [batch, inputs], TensorValue.FromFloats("w", w, dims));
        if (asConstantNode)
        {
            MoveToConstantNode(model, "w");
        }

        var index = new GraphIndex(model);
        LinearLayer layer = LinearLayer.TryCreate(index, node, out string? why) ?? throw new InvalidOperationException(why);
        Assert.Equal(asConstantNode ? ConstantKind.ConstantNode : ConstantKind.Initializer, layer.WeightKind);
        Assert.Equal((outputs, inputs), (layer.Rows, layer.Columns));
        Assert.Equal(transB == 1 ? 0 : 1, layer.OutputAxis);
        float[] matrix = layer.ReadMatrix(index);

        // Each output channel of ORT's result is its matrix row dotted with the input row.
        float[] x = OrtModels.Values(batch * inputs, 4);
        ReadOnlySpan<float> y = OrtModels.Run(model, DenseTensor.FromFloats(x, batch, inputs)).AsSpan<float>();
        for (int n = 0; n < batch; n++)
        {
            for (int o = 0; o < outputs; o++)
            {
                double sum = 0;
                for (int j = 0; j < inputs; j++)
                {
                    sum += (double)matrix[o * inputs + j] * x[n * inputs + j];
                }

                Assert.Equal(sum, y[n * outputs + o], 1e-5);
            }
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Writing_the_matrix_back_changes_the_weight_where_it_lives(bool asConstantNode)
    {
        float[] w = OrtModels.Values(2 * 3 * 3 * 3, 5);
        Node conv = OrtModels.Node("Conv", ["x", "w"]);
        OnnxModel model = OrtModels.Single(conv, [1, 3, 4, 4], TensorValue.FromFloats("w", w, 2, 3, 3, 3));
        if (asConstantNode)
        {
            MoveToConstantNode(model, "w");
        }

        var index = new GraphIndex(model);
        LinearLayer layer = LinearLayer.TryCreate(index, conv, out _)!;
        Assert.Equal((2, 27, 0), (layer.Rows, layer.Columns, layer.OutputAxis));
        float[] doubled = layer.ReadMatrix(index).Select(v => 2 * v).ToArray();
        layer.WriteMatrix(index, doubled, "doubled");

        Assert.Equal("w", layer.WeightName); // sole reader: same name, same place
        Assert.Equal(asConstantNode ? 1 : 0, model.Graph.Nodes.Count(n => n.OpType == "Constant"));
        Assert.Equal(asConstantNode ? 0 : 1, model.Graph.Initializers.Count);
        Assert.Equal(doubled, new GraphIndex(model).FloatConstant("w", out _));
    }

    [Fact]
    public void A_weight_other_nodes_read_is_copied_for_the_one_written()
    {
        float[] w = OrtModels.Values(4 * 4, 6);
        Node first = OrtModels.Node("MatMul", ["x", "w"]);
        var second = new Node { OpType = "MatMul", Name = "second" };
        second.Inputs.AddRange(["y", "w"]);
        second.Outputs.Add("z");
        OnnxModel model = OrtModels.Single(first, [2, 4], TensorValue.FromFloats("w", w, 4, 4));
        model.Graph.Nodes.Add(second);
        var index = new GraphIndex(model);
        LinearLayer layer = LinearLayer.TryCreate(index, first, out _)!;

        layer.WriteMatrix(index, new float[16], "zeroed");

        Assert.Equal("w_zeroed", first.Inputs[1]);
        Assert.Equal("w", second.Inputs[1]);
        Assert.Equal(w, index.FloatConstant("w", out _));
        Assert.Equal(new float[16], index.FloatConstant("w_zeroed", out _));
    }

    [Fact]
    public void What_is_not_a_linear_layer_says_why()
    {
        Node batched = OrtModels.Node("MatMul", ["x", "w"]);
        OnnxModel model = OrtModels.Single(batched, [2, 4, 4], TensorValue.FromFloats("w", new float[32], 2, 4, 4));
        Assert.Null(LinearLayer.TryCreate(new GraphIndex(model), batched, out string? why));
        Assert.Contains("rank 3", why, StringComparison.Ordinal);

        Node activations = OrtModels.Node("MatMul", ["x", "x"]);
        Assert.Null(LinearLayer.TryCreate(new GraphIndex(OrtModels.Single(activations, [4, 4])), activations, out why));
        Assert.Contains("not a float constant", why, StringComparison.Ordinal);
    }

    /// <summary>Turns initializer <paramref name="name"/> into a Constant node, as Paddle and tf2onnx export weights.</summary>
    internal static void MoveToConstantNode(OnnxModel model, string name)
    {
        TensorValue value = model.Graph.Initializers.Single(t => t.Name == name);
        model.Graph.Initializers.Remove(value);
        var constant = new Node { OpType = "Constant", Name = name + "_constant" };
        constant.Outputs.Add(name);
        constant.Attributes.Add(NodeAttribute.FromTensor("value", value));
        model.Graph.Nodes.Insert(0, constant);
    }
}
