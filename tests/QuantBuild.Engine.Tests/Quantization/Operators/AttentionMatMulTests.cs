using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Quantization;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Profiles;
using QuantBuild.Engine.Quantization;
using Xunit.Abstractions;

namespace QuantBuild.Engine.Tests.Quantization.Operators;

/// <summary>
/// Self-attention as exporters write it: projections with constant weights, then Q·Kᵀ and softmax·V between two
/// activations. Both activation MatMuls and the Softmax become integer kernels, and the output stays close to fp32.
/// </summary>
public sealed class AttentionMatMulTests(ITestOutputHelper output)
{
    private const int T = 16;
    private const int D = 32;
    private static readonly EncodeOptions Vnni = new() { Profile = DeviceProfiles.CpuX64Vnni };

    [Fact]
    public void Q_times_K_transposed_and_softmax_times_V_are_quantized_as_two_activations()
    {
        OnnxModel fp32 = Attention();
        DenseTensor calibration = DenseTensor.FromFloats(TestGraphs.Normal(11, 64 * T * D, 1f), 64, T, D);
        DenseTensor eval = DenseTensor.FromFloats(TestGraphs.Normal(12, 16 * T * D, 1f), 16, T, D);
        var ranges = OrtHarness.MinMax(fp32, QdqEncoder.Plan(fp32, Vnni), new[] { calibration }, "x");

        EncodeResult result = QdqEncoder.Encode(fp32, ranges, Vnni);

        Assert.DoesNotContain(result.UnquantizedNodes, n => n.NodeName is "scores" or "context" or "softmax");
        Assert.Contains(result.QuantizedLayers, l => l.NodeName == "scores" && l.Weight is null);
        Node scores = result.Model.Graph.Nodes.Single(n => n.Name == "scores");
        Assert.Equal("DequantizeLinear", result.Model.Graph.ProducerOf(scores.Inputs[0]).OpType);
        Assert.Equal("DequantizeLinear", result.Model.Graph.ProducerOf(scores.Inputs[1]).OpType);

        float[] expected = OrtHarness.Run(fp32, "x", eval, "y");
        float[] actual = OrtHarness.Run(result.Model, "x", eval, "y");
        double cosine = OrtHarness.Cosine(expected, actual);
        OnnxModel optimized = OrtHarness.Optimized(result.Model);
        var counts = OrtHarness.OpCounts(optimized);
        Assert.Empty(Engine.Analysis.KernelCheck.Unfused(optimized.Graph));
        output.WriteLine($"cosine {cosine:F5}; ORT runs {OrtHarness.Describe(counts)}");
        Assert.True(cosine > 0.99, $"cosine {cosine}");
        Assert.False(counts.ContainsKey("MatMul"), OrtHarness.Describe(counts));
        Assert.False(counts.ContainsKey("Softmax"), OrtHarness.Describe(counts));
        Assert.True(counts.GetValueOrDefault("QLinearSoftmax") == 1, OrtHarness.Describe(counts));
    }

    [Fact]
    public void A_softmax_that_is_the_graph_output_stays_fp32_so_probabilities_are_not_rounded()
    {
        OnnxModel model = Attention();
        Graph g = model.Graph;
        g.Outputs.Clear();
        g.Outputs.Add(TestGraphs.Value("probs", ElementType.Float, "n", T, T));
        g.Nodes.RemoveAll(n => n.Name is "context" or "out");
        DenseTensor calibration = DenseTensor.FromFloats(TestGraphs.Normal(11, 8 * T * D, 1f), 8, T, D);
        var ranges = OrtHarness.MinMax(model, QdqEncoder.Plan(model, Vnni), new[] { calibration }, "x");

        EncodeResult result = QdqEncoder.Encode(model, ranges, Vnni);

        UnquantizedNode softmax = Assert.Single(result.UnquantizedNodes, n => n.NodeName == "softmax");
        Assert.StartsWith("its output is a graph output", softmax.Reason);
    }

    [Fact]
    public void A_causal_mask_of_minus_1e9_keeps_the_mask_add_and_the_softmax_fp32_and_the_output_close()
    {
        OnnxModel fp32 = Attention(causal: true);
        DenseTensor calibration = DenseTensor.FromFloats(TestGraphs.Normal(11, 64 * T * D, 1f), 64, T, D);
        DenseTensor eval = DenseTensor.FromFloats(TestGraphs.Normal(12, 16 * T * D, 1f), 16, T, D);
        var ranges = OrtHarness.MinMax(fp32, QdqEncoder.Plan(fp32, Vnni), new[] { calibration }, "x");

        EncodeResult result = QdqEncoder.Encode(fp32, ranges, Vnni);

        Assert.StartsWith("operand 'mask' holds mask values (-1E+09)", Assert.Single(result.UnquantizedNodes, n => n.NodeName == "masked").Reason);
        Assert.StartsWith("input 'sm' was calibrated to [-1E+09", Assert.Single(result.UnquantizedNodes, n => n.NodeName == "softmax").Reason);
        double cosine = OrtHarness.Cosine(OrtHarness.Run(fp32, "x", eval, "y"), OrtHarness.Run(result.Model, "x", eval, "y"));
        output.WriteLine($"masked attention cosine {cosine:F5}");
        Assert.True(cosine > 0.99, $"cosine {cosine}");
    }

    /// <summary>x[n,T,D] → q,k,v projections → softmax(q·kᵀ·s) · v → out projection → y.</summary>
    private static OnnxModel Attention(bool causal = false)
    {
        OnnxModel model = TestGraphs.NewModel();
        Graph g = model.Graph;
        g.Inputs.Add(TestGraphs.Value("x", ElementType.Float, "n", T, D));
        g.Outputs.Add(TestGraphs.Value("y", ElementType.Float, "n", T, D));
        float std = MathF.Sqrt(1f / D);
        g.AddWeight("wq", 1, std, D, D);
        g.AddWeight("wk", 2, std, D, D);
        g.AddWeight("wv", 3, std, D, D);
        g.AddWeight("wo", 4, std, D, D);
        g.Initializers.Add(TensorValue.FromFloats("scale", [1f / MathF.Sqrt(D)], []));
        g.AddNode("MatMul", "q_proj", new[] { "x", "wq" }, new[] { "q" });
        g.AddNode("MatMul", "k_proj", new[] { "x", "wk" }, new[] { "k" });
        g.AddNode("MatMul", "v_proj", new[] { "x", "wv" }, new[] { "v" });
        g.AddNode("Transpose", "k_t", new[] { "k" }, new[] { "kt" }, NodeAttribute.FromInts("perm", [0, 2, 1]));
        g.AddNode("MatMul", "scores", new[] { "q", "kt" }, new[] { "s" });
        g.AddNode("Mul", "scaled", new[] { "s", "scale" }, new[] { "ss" });
        string scores = "ss";
        if (causal)
        {
            // an exporter's causal mask: −1e9 above the diagonal, added to the scores
            var mask = new float[T * T];
            for (int i = 0; i < T; i++)
            {
                for (int j = i + 1; j < T; j++)
                {
                    mask[i * T + j] = -1e9f;
                }
            }

            g.Initializers.Add(TensorValue.FromFloats("mask", mask, T, T));
            g.AddNode("Add", "masked", new[] { "ss", "mask" }, new[] { "sm" });
            scores = "sm";
        }

        g.AddNode("Softmax", "softmax", new[] { scores }, new[] { "probs" }, NodeAttribute.FromInt("axis", -1));
        g.AddNode("MatMul", "context", new[] { "probs", "v" }, new[] { "c" });
        g.AddNode("MatMul", "out", new[] { "c", "wo" }, new[] { "y" });
        return model;
    }
}
