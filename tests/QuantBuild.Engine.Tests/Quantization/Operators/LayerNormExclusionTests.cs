using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Quantization;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Profiles;
using QuantBuild.Engine.Quantization;

namespace QuantBuild.Engine.Tests.Quantization.Operators;

/// <summary>
/// A LayerNorm exported as ReduceMean/Sub/Pow/.../Mul γ/Add β between two quantized projections keeps every one of
/// its nodes fp32, so ONNX Runtime still fuses it into LayerNormalization.
/// </summary>
public sealed class LayerNormExclusionTests
{
    private const int Width = 16;
    private static readonly EncodeOptions Vnni = new() { Profile = DeviceProfiles.CpuX64Vnni };

    [Fact]
    public void A_decomposed_layernorm_between_quantized_layers_stays_fp32_and_ORT_still_fuses_it()
    {
        OnnxModel fp32 = Model();
        DenseTensor calibration = DenseTensor.FromFloats(TestGraphs.Normal(3, 32 * 5 * Width, 1f), 32, 5, Width);
        var ranges = OrtHarness.MinMax(fp32, QdqEncoder.Plan(fp32, Vnni), new[] { calibration }, "x");

        EncodeResult result = QdqEncoder.Encode(fp32, ranges, Vnni);

        foreach (string name in new[] { "mean", "centre", "square", "variance", "add_eps", "std", "normalise", "scale", "shift" })
        {
            UnquantizedNode node = Assert.Single(result.UnquantizedNodes, n => n.NodeName == name);
            Assert.StartsWith("part of a LayerNorm of 'h'", node.Reason);
        }

        Assert.Contains(result.QuantizedLayers, l => l.NodeName == "up");
        Assert.Contains(result.QuantizedLayers, l => l.NodeName == "proj");
        var counts = OrtHarness.OpCounts(OrtHarness.Optimized(result.Model));
        Assert.True(counts.GetValueOrDefault("LayerNormalization") == 1, OrtHarness.Describe(counts));
    }

    /// <summary>x → MatMul(up) → LayerNorm written out → MatMul(proj) → z.</summary>
    private static OnnxModel Model()
    {
        OnnxModel model = TestGraphs.NewModel(13);
        Graph g = model.Graph;
        g.Inputs.Add(TestGraphs.Value("x", ElementType.Float, "n", 5, Width));
        g.Outputs.Add(TestGraphs.Value("z", ElementType.Float, "n", 5, 8));
        g.AddWeight("w_up", 1, 0.3f, Width, Width);
        g.AddWeight("w_proj", 2, 0.3f, Width, 8);
        g.AddWeight("gamma", 3, 0.5f, Width);
        g.AddWeight("beta", 4, 0.5f, Width);
        g.Initializers.Add(TensorValue.FromFloats("two", [2f], []));
        g.Initializers.Add(TensorValue.FromFloats("eps", [1e-5f], []));
        g.AddNode("MatMul", "up", new[] { "x", "w_up" }, new[] { "h" });
        g.AddNode("ReduceMean", "mean", new[] { "h" }, new[] { "mu" }, NodeAttribute.FromInts("axes", -1));
        g.AddNode("Sub", "centre", new[] { "h", "mu" }, new[] { "d" });
        g.AddNode("Pow", "square", new[] { "d", "two" }, new[] { "d2" });
        g.AddNode("ReduceMean", "variance", new[] { "d2" }, new[] { "var" }, NodeAttribute.FromInts("axes", -1));
        g.AddNode("Add", "add_eps", new[] { "var", "eps" }, new[] { "ve" });
        g.AddNode("Sqrt", "std", new[] { "ve" }, new[] { "sd" });
        g.AddNode("Div", "normalise", new[] { "d", "sd" }, new[] { "nrm" });
        g.AddNode("Mul", "scale", new[] { "nrm", "gamma" }, new[] { "ng" });
        g.AddNode("Add", "shift", new[] { "ng", "beta" }, new[] { "y" });
        g.AddNode("MatMul", "proj", new[] { "y", "w_proj" }, new[] { "z" });
        return model;
    }
}
