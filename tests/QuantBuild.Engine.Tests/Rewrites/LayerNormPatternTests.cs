using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Rewrites;
using static QuantBuild.Engine.Tests.Rewrites.RewriteHarness;

namespace QuantBuild.Engine.Tests.Rewrites;

/// <summary>
/// Decomposed LayerNorms as exporters write them, each first checked to be a LayerNorm (ONNX Runtime's
/// LayerNormalization on the same input agrees within 1e-5), then found with every node, γ, β and ε.
/// </summary>
public class LayerNormPatternTests
{
    private const int Width = 8;

    /// <summary>x [2, 5, 8] → decomposed LayerNorm over the last axis → y, then a MatMul that reads it.</summary>
    private static OnnxModel Decomposed(bool pow = true, bool reciprocal = false, bool swapped = false, bool constantNodes = false, bool affine = true, long opset = 13)
    {
        OnnxModel m = Model(opset, 8);
        Graph g = m.Graph;
        g.Inputs.Add(Value("x", ElementType.Float, 2, 5, Width));
        g.Outputs.Add(Untyped("z"));
        void Const(string name, TensorValue value)
        {
            if (constantNodes)
            {
                g.Add("Constant", name + "_node", [], [name], NodeAttribute.FromTensor("value", value));
            }
            else
            {
                value.Name = name;
                g.Initializers.Add(value);
            }
        }

        Const("two", TensorValue.FromFloats(string.Empty, [2f]));
        Const("eps", TensorValue.FromFloats(string.Empty, [1e-5f]));
        Const("gamma", TensorValue.FromDense(string.Empty, Random(1, Width)));
        Const("beta", TensorValue.FromDense(string.Empty, Random(2, Width)));
        g.Initializers.Add(TensorValue.FromDense("w", Random(3, Width, 4)));
        NodeAttribute[] reduceAttrs = opset >= 18 ? [] : [NodeAttribute.FromInts("axes", -1)];
        string[] Reduce(string input) => opset >= 18 ? [input, "axes"] : [input];
        if (opset >= 18)
        {
            g.Initializers.Add(GraphConstantsForTests.Int64s("axes", [-1], 1));
        }

        string[] Pair(string a, string b) => swapped ? [b, a] : [a, b];
        g.Add("ReduceMean", "mean", Reduce("x"), ["mu"], reduceAttrs);
        g.Add("Sub", "centre", ["x", "mu"], ["d"]);
        if (pow)
        {
            g.Add("Pow", "square", ["d", "two"], ["d2"]);
        }
        else
        {
            g.Add("Mul", "square", ["d", "d"], ["d2"]);
        }

        g.Add("ReduceMean", "variance", Reduce("d2"), ["var"], reduceAttrs);
        g.Add("Add", "add_eps", Pair("var", "eps"), ["ve"]);
        g.Add("Sqrt", "std", ["ve"], ["sd"]);
        if (reciprocal)
        {
            g.Add("Reciprocal", "inv_std", ["sd"], ["r"]);
            g.Add("Mul", "normalise", Pair("d", "r"), ["n"]);
        }
        else
        {
            g.Add("Div", "normalise", ["d", "sd"], ["n"]);
        }

        string last = "n";
        if (affine)
        {
            g.Add("Mul", "scale", Pair("n", "gamma"), ["ng"]);
            g.Add("Add", "shift", Pair("ng", "beta"), ["y"]);
            last = "y";
        }

        g.Add("MatMul", "proj", [last, "w"], ["z"]);
        return m;
    }

    /// <summary>The same graph with ONNX's LayerNormalization (opset 17) in place of the pattern.</summary>
    private static OnnxModel Fused(OnnxModel decomposed, bool affine)
    {
        OnnxModel m = Model(17, 8);
        Graph g = m.Graph;
        g.Inputs.Add(Value("x", ElementType.Float, 2, 5, Width));
        g.Outputs.Add(Untyped("z"));
        g.Initializers.Add(TensorValue.FromDense("gamma", affine ? Random(1, Width) : DenseTensor.FromFloats(Enumerable.Repeat(1f, Width).ToArray(), Width)));
        g.Initializers.Add(TensorValue.FromDense("beta", affine ? Random(2, Width) : DenseTensor.Zeros(ElementType.Float, Width)));
        g.Initializers.Add(decomposed.Graph.Initializers.Single(t => t.Name == "w"));
        g.Add("LayerNormalization", "ln", ["x", "gamma", "beta"], ["y"], NodeAttribute.FromInt("axis", -1), NodeAttribute.FromFloat("epsilon", 1e-5f));
        g.Add("MatMul", "proj", ["y", "w"], ["z"]);
        return m;
    }

    [Theory]
    [InlineData(true, false, false, false, true, 13)]
    [InlineData(false, true, true, true, true, 13)]
    [InlineData(true, true, false, true, false, 13)]
    [InlineData(false, false, true, false, true, 18)]
    public void Exporter_variants_are_found_whole(bool pow, bool reciprocal, bool swapped, bool constantNodes, bool affine, long opset)
    {
        OnnxModel m = Decomposed(pow, reciprocal, swapped, constantNodes, affine, opset);
        DenseTensor x = Random(4, 2, 5, Width);
        float[] reference = Run(Fused(m, affine), Feed("x", x))["z"].AsSpan<float>().ToArray();
        float[] decomposed = Run(m, Feed("x", x))["z"].AsSpan<float>().ToArray();
        Assert.True(MaxRelativeError(reference, decomposed) < 1e-5, "the test model is not a LayerNorm");

        LayerNormMatch match = Assert.Single(LayerNormPattern.Find(m.Graph, m.IrVersion));

        string[] expected = ["mean", "centre", "square", "variance", "add_eps", "std", .. reciprocal ? new[] { "inv_std" } : [], "normalise", .. affine ? new[] { "scale", "shift" } : []];
        Assert.Equal(expected, match.Nodes);
        Assert.Equal("x", match.Input);
        Assert.Equal(affine ? "y" : "n", match.Output);
        Assert.Equal(affine ? "gamma" : null, match.Gamma);
        Assert.Equal(affine ? "beta" : null, match.Beta);
        Assert.Equal(1e-5f, match.Epsilon);
    }

    [Fact]
    public void Look_alikes_that_are_not_LayerNorm_are_not_found()
    {
        // |x - mean| instead of its square: a mean absolute deviation, not a variance.
        OnnxModel m = Decomposed();
        Node square = m.Graph.Nodes.Single(n => n.Name == "square");
        m.Graph.Nodes.Replace(m.Graph.Nodes.IndexOf(square), new Node { OpType = "Abs", Name = "square", Inputs = { "d" }, Outputs = { "d2" } });
        Assert.Empty(LayerNormPattern.Find(m.Graph));

        // Dividing by the variance itself (no square root).
        OnnxModel n = Decomposed();
        Node std = n.Graph.Nodes.Single(x => x.Name == "std");
        n.Graph.Nodes.Replace(n.Graph.Nodes.IndexOf(std), new Node { OpType = "Identity", Name = "std", Inputs = { "ve" }, Outputs = { "sd" } });
        Assert.Empty(LayerNormPattern.Find(n.Graph));

        Assert.Empty(LayerNormPattern.Find(Tests.Quantization.TestGraphs.SmallConvNet().Graph));
    }
}
