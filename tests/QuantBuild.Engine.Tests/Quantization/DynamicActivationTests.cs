using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Quantization;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Profiles;
using QuantBuild.Engine.Quantization;
using QuantBuild.Engine.Tests.Data;
using QuantBuild.Onnx;
using Xunit.Abstractions;

namespace QuantBuild.Engine.Tests.Quantization;

/// <summary>
/// activations: dynamic on models torch exported (Fixtures/make_torch_models.py): every MatMul/Gemm with a constant weight
/// becomes com.microsoft DynamicQuantizeMatMul, which ONNX Runtime runs as it is; nothing needs a calibrated range, and
/// the outputs stay close to fp32.
/// </summary>
public sealed class DynamicActivationTests(ITestOutputHelper output)
{
    private static readonly EncodeOptions Dynamic = new() { Profile = DeviceProfiles.CpuX64Vnni, Activations = ActivationMode.Dynamic };

    internal static string Fixture(string name) => Path.Combine(TestFiles.RepoRoot, "tests", "QuantBuild.Engine.Tests", "Quantization", "Fixtures", name);

    [Theory]
    [InlineData("transformer_block.onnx", 16, 32)]
    [InlineData("lstm.onnx", 12, 8)]
    [InlineData("mlp.onnx", 0, 32)]
    public void Every_linear_with_a_constant_weight_becomes_DynamicQuantizeMatMul_with_no_calibration_and_stays_within_cosine_0_99(string file, int steps, int width)
    {
        OnnxModel fp32 = OnnxModelLoader.Load(Fixture(file));
        int linears = fp32.Graph.Nodes.Count(n => n.OpType is "Gemm" || (n.OpType == "MatMul" && fp32.Graph.Initializers.Any(t => t.Name == n.Inputs[1])));

        Assert.Empty(QdqEncoder.Plan(fp32, Dynamic));
        EncodeResult result = QdqEncoder.Encode(fp32, new Dictionary<string, TensorRange>(), Dynamic);

        List<Node> dynamic = result.Model.Graph.Nodes.Where(n => n.OpType == "DynamicQuantizeMatMul").ToList();
        Assert.True(linears > 0);
        Assert.Equal(linears, dynamic.Count);
        Assert.All(dynamic, n => Assert.Equal("com.microsoft", n.Domain));
        Assert.All(dynamic, n => Assert.Equal(ElementType.Int8, result.Model.Graph.Initializer(n.Inputs[1]).ElementType));
        Assert.DoesNotContain(result.Model.Graph.Nodes, n => n.OpType is "QuantizeLinear" or "DequantizeLinear");
        Assert.All(result.QuantizedLayers, l => Assert.True(l.Dynamic, l.NodeName));
        // An exported Linear's MatMul + Add of a constant vector is one kernel with that vector as its bias.
        var produced = dynamic.SelectMany(n => n.Outputs).ToHashSet(StringComparer.Ordinal);
        Assert.DoesNotContain(result.Model.Graph.Nodes, n => n.OpType == "Add" && n.Inputs.Any(produced.Contains)
            && n.Inputs.Any(i => result.Model.Graph.Initializers.Any(t => t.Name == i && t.Dims.Length == 1)));
        if (file == "transformer_block.onnx")
        {
            Assert.Equal(fp32.Graph.Nodes.Count(n => n.OpType == "Add") - 6, result.Model.Graph.Nodes.Count(n => n.OpType == "Add"));
            // q, k, v, proj, fc1, fc2 took their Add's vector; the head's Gemm brings its own C.
            Assert.Equal(7, dynamic.Count(n => n.Inputs.Count == 5 && n.Inputs[4].Length > 0));
        }

        if (file == "lstm.onnx")
        {
            Assert.Contains(result.Model.Graph.Nodes, n => n.OpType == "DynamicQuantizeLSTM");
        }

        Dictionary<string, int> optimized = OrtHarness.OpCounts(OrtHarness.Optimized(result.Model));
        output.WriteLine($"{file}: optimized {OrtHarness.Describe(optimized)}");
        Assert.Equal(linears, optimized.GetValueOrDefault("DynamicQuantizeMatMul"));

        long[] shape = steps > 0 ? [8, steps, width] : [8, width];
        DenseTensor x = DenseTensor.FromFloats(TestGraphs.Normal(11, (int)shape.Aggregate(1L, (a, b) => a * b), 1f), shape);
        string outputName = fp32.Graph.Outputs[0].Name;
        double cosine = OrtHarness.Cosine(OrtHarness.Run(fp32, "x", x, outputName), OrtHarness.Run(result.Model, "x", x, outputName));
        output.WriteLine($"{file}: cosine {cosine:F6}");
        Assert.True(cosine > 0.99, $"cosine {cosine}");
    }

    [Fact]
    public void A_layer_named_dynamic_is_the_only_one_without_a_range_and_the_rest_stay_static()
    {
        OnnxModel fp32 = OnnxModelLoader.Load(Fixture("mlp.onnx"));
        List<Node> gemms = fp32.Graph.Nodes.Where(n => n.OpType == "Gemm").ToList();
        var options = new EncodeOptions { Profile = DeviceProfiles.CpuX64Vnni, DynamicNodeNames = new HashSet<string> { gemms[0].Name! } };

        IReadOnlyList<string> plan = QdqEncoder.Plan(fp32, options);
        Assert.DoesNotContain("x", plan);
        Assert.Contains(gemms[1].Inputs[0], plan);
        DenseTensor calibration = DenseTensor.FromFloats(TestGraphs.Normal(3, 64 * 32, 1f), 64, 32);
        EncodeResult result = QdqEncoder.Encode(fp32, OrtHarness.MinMax(fp32, plan, [calibration], "x"), options);

        Assert.Equal("DynamicQuantizeMatMul", result.Model.Graph.Nodes.Single(n => n.Name == gemms[0].Name).OpType);
        Assert.Equal(2, result.Model.Graph.Nodes.Count(n => n.OpType == "Gemm"));
        Assert.Equal([true, false, false], result.QuantizedLayers.Where(l => l.OpType == "Gemm").Select(l => l.Dynamic));
        DenseTensor x = DenseTensor.FromFloats(TestGraphs.Normal(12, 8 * 32, 1f), 8, 32);
        Assert.True(OrtHarness.Cosine(OrtHarness.Run(fp32, "x", x, "y"), OrtHarness.Run(result.Model, "x", x, "y")) > 0.99);
    }

    [Fact]
    public void Conv_stays_static_under_dynamic_activations_because_ORTs_ConvInteger_is_not_faster_than_fp32()
    {
        OnnxModel fp32 = OnnxModelLoader.Load(Fixture("fp16_convnet.onnx"));
        new Engine.Rewrites.Float16Rewrite().Apply(fp32);

        IReadOnlyList<string> plan = QdqEncoder.Plan(fp32, Dynamic);
        Node conv = fp32.Graph.Nodes.First(n => n.OpType == "Conv");
        Assert.Contains(conv.Inputs[0], plan);

        var named = Dynamic with { Activations = ActivationMode.Static, DynamicNodeNames = new HashSet<string> { conv.Name! } };
        var e = Assert.Throws<QuantBuildException>(() => QdqEncoder.Plan(fp32, named));
        Assert.Equal("QB3011", e.Code);
        Assert.Contains("ConvInteger is not faster than fp32", e.Message, StringComparison.Ordinal);
    }
}
