using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Rewrites;
using static QuantBuild.Engine.Tests.Rewrites.RewriteHarness;

namespace QuantBuild.Engine.Tests.Rewrites;

/// <summary>BatchNormalization folded into the linear node before it computes what ONNX Runtime computes on the original.</summary>
public class BatchNormFoldingRewriteTests
{
    private const double Tolerance = 1e-4;

    private static void AddBn(Graph g, string input, string output, int channels, int seed, bool asConstantNodes = false)
    {
        var random = new Random(seed);
        float[] Values(float lo, float hi) => Enumerable.Range(0, channels).Select(_ => (float)(lo + random.NextDouble() * (hi - lo))).ToArray();
        string[] names = [$"{output}.scale", $"{output}.bias", $"{output}.mean", $"{output}.var"];
        float[][] values = [Values(0.5f, 2f), Values(-1f, 1f), Values(-0.5f, 0.5f), Values(0.1f, 3f)];
        for (int i = 0; i < 4; i++)
        {
            TensorValue t = TensorValue.FromFloats(names[i], values[i], channels);
            if (asConstantNodes)
            {
                g.Add("Constant", names[i] + "_node", [], [names[i]], NodeAttribute.FromTensor("value", t));
            }
            else
            {
                g.Initializers.Add(t);
            }
        }

        g.Add("BatchNormalization", output + "_bn", [input, .. names], [output], NodeAttribute.FromFloat("epsilon", 1e-3f));
    }

    private static RewriteResult Fold(OnnxModel m)
    {
        RewriteResult result = new BatchNormFoldingRewrite().Apply(m);
        new DeadCodeRewrite().Apply(m);
        return result;
    }

    [Theory]
    [InlineData(1, true)]
    [InlineData(2, false)]
    public void Conv_then_BN_becomes_one_Conv(long group, bool bias)
    {
        OnnxModel m = Model(17, 8);
        m.Graph.Inputs.Add(Value("x", ElementType.Float, 2, 4, 9, 9));
        m.Graph.Outputs.Add(Untyped("y"));
        m.Graph.Initializers.Add(TensorValue.FromDense("w", Random(1, 6, 4 / group, 3, 3)));
        string[] inputs = bias ? ["x", "w", "b"] : ["x", "w"];
        if (bias)
        {
            m.Graph.Initializers.Add(TensorValue.FromDense("b", Random(2, 6)));
        }

        m.Graph.Add("Conv", "conv", inputs, ["c"], NodeAttribute.FromInt("group", group), NodeAttribute.FromInts("pads", 1, 1, 1, 1));
        AddBn(m.Graph, "c", "bn_out", 6, 3);
        m.Graph.Add("Relu", "relu", ["bn_out"], ["y"]);
        RewriteResult? result = null;

        OnnxModel folded = AssertSameOutputs(m, x => result = Fold(x), Feed("x", Random(4, 2, 4, 9, 9)), Tolerance);

        Assert.Equal(["Conv", "Relu"], OpTypes(folded.Graph));
        Assert.Equal(["bn_out_bn"], result!.Changed);
        Assert.Equal(3, folded.Graph.Nodes[0].Inputs.Count);
    }

    [Fact]
    public void ConvTranspose_with_groups_then_BN_becomes_one_ConvTranspose()
    {
        OnnxModel m = Model(17, 8);
        m.Graph.Inputs.Add(Value("x", ElementType.Float, 1, 4, 5, 5));
        m.Graph.Outputs.Add(Untyped("y"));
        m.Graph.Initializers.Add(TensorValue.FromDense("w", Random(5, 4, 3, 2, 2))); // [C=4, M/g=3]: M = 6 for group 2
        m.Graph.Initializers.Add(TensorValue.FromDense("b", Random(6, 6)));
        m.Graph.Add("ConvTranspose", "deconv", ["x", "w", "b"], ["c"], NodeAttribute.FromInt("group", 2), NodeAttribute.FromInts("strides", 2, 2));
        AddBn(m.Graph, "c", "y", 6, 7);

        OnnxModel folded = AssertSameOutputs(m, x => Fold(x), Feed("x", Random(8, 1, 4, 5, 5)), Tolerance);

        Assert.Equal(["ConvTranspose"], OpTypes(folded.Graph));
    }

    [Theory]
    [InlineData(0L, true)]
    [InlineData(1L, false)]
    public void Gemm_then_BN_becomes_one_Gemm(long transB, bool withC)
    {
        OnnxModel m = Model(17, 8);
        m.Graph.Inputs.Add(Value("x", ElementType.Float, 3, 5));
        m.Graph.Outputs.Add(Untyped("y"));
        m.Graph.Initializers.Add(TensorValue.FromDense("w", transB == 1 ? Random(9, 7, 5) : Random(9, 5, 7)));
        string[] inputs = withC ? ["x", "w", "c0"] : ["x", "w"];
        if (withC)
        {
            m.Graph.Initializers.Add(TensorValue.FromDense("c0", Random(10, 7)));
        }

        m.Graph.Add("Gemm", "fc", inputs, ["g"], NodeAttribute.FromInt("transB", transB), NodeAttribute.FromFloat("alpha", 0.7f), NodeAttribute.FromFloat("beta", 0.5f));
        AddBn(m.Graph, "g", "y", 7, 11, asConstantNodes: true);

        OnnxModel folded = AssertSameOutputs(m, x => Fold(x), Feed("x", Random(12, 3, 5)), Tolerance);

        Assert.Equal(["Gemm"], OpTypes(folded.Graph));
        Assert.DoesNotContain(folded.Graph.Initializers, t => t.Name == "w");
    }

    [Fact]
    public void MatMul_with_a_2D_input_then_BN_becomes_MatMul_and_Add()
    {
        OnnxModel m = Model(17, 8);
        m.Graph.Inputs.Add(Value("x", ElementType.Float, 4, 6));
        m.Graph.Outputs.Add(Untyped("y"));
        m.Graph.Initializers.Add(TensorValue.FromDense("w", Random(13, 6, 5)));
        m.Graph.Add("MatMul", "mm", ["x", "w"], ["h"]);
        AddBn(m.Graph, "h", "y", 5, 14);

        OnnxModel folded = AssertSameOutputs(m, x => Fold(x), Feed("x", Random(15, 4, 6)), Tolerance);

        Assert.Equal(["MatMul", "Add"], OpTypes(folded.Graph));
    }

    [Fact]
    public void BN_after_a_Relu_or_after_a_shared_Conv_output_stays_and_says_why()
    {
        OnnxModel m = Model(17, 8);
        m.Graph.Inputs.Add(Value("x", ElementType.Float, 1, 3, 6, 6));
        m.Graph.Outputs.Add(Untyped("y"));
        m.Graph.Outputs.Add(Untyped("z"));
        m.Graph.Initializers.Add(TensorValue.FromDense("w", Random(16, 3, 3, 1, 1)));
        m.Graph.Add("Relu", "relu", ["x"], ["r"]);
        AddBn(m.Graph, "r", "y", 3, 17);
        m.Graph.Add("Conv", "conv", ["x", "w"], ["c"]);
        m.Graph.Add("Sigmoid", "side", ["c"], ["s"]);
        AddBn(m.Graph, "c", "b2", 3, 18);
        m.Graph.Add("Add", "sum", ["b2", "s"], ["z"]);
        RewriteResult? result = null;

        OnnxModel same = AssertSameOutputs(m, x => result = Fold(x), Feed("x", Random(19, 1, 3, 6, 6)), Tolerance);

        Assert.Equal(2, OpTypes(same.Graph).Count(o => o == "BatchNormalization"));
        Assert.Empty(result!.Changed);
        Assert.Contains(result.Skipped, s => s.StartsWith("y_bn:", StringComparison.Ordinal) && s.Contains("follows Relu"));
        Assert.Contains(result.Skipped, s => s.StartsWith("b2_bn:", StringComparison.Ordinal) && s.Contains("read by more than"));
    }
}
