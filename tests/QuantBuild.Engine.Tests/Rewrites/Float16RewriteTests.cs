using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Quantization;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Profiles;
using QuantBuild.Engine.Quantization;
using QuantBuild.Engine.Rewrites;
using QuantBuild.Engine.Tests.Quantization;
using QuantBuild.Onnx;
using QuantBuild.Runtime;

namespace QuantBuild.Engine.Tests.Rewrites;

/// <summary>An fp16 model computes in fp32 inside the same fp16 interface, and then quantizes like any other.</summary>
public sealed class Float16RewriteTests
{
    [Fact]
    public void An_fp16_conv_net_keeps_its_fp16_interface_and_matches_the_original_within_half_precision()
    {
        OnnxModel half = HalfConvNet();
        OnnxModel wide = OnnxModelLoader.LoadFromBytes(OnnxModelSaver.SaveToBytes(half));

        string? detail = new Float16Rewrite().Apply(wide).Detail;

        Assert.NotNull(detail);
        Assert.Contains("2 Casts at the graph boundary", detail);
        Assert.All(wide.Graph.Initializers, t => Assert.Equal(ElementType.Float, t.ElementType));
        Assert.Equal(ElementType.Float16, wide.Graph.Inputs[0].TensorType!.ElementType);
        Assert.Equal(ElementType.Float16, wide.Graph.Outputs[0].TensorType!.ElementType);
        DenseTensor x = HalfInput(4, seed: 5);
        float[] expected = RunHalf(half, x);
        float[] actual = RunHalf(wide, x);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 0.02 + 0.01 * Math.Abs(expected[i]), $"logit {i}: fp16 {expected[i]}, fp32 inside {actual[i]}");
        }
    }

    [Fact]
    public void The_widened_fp16_model_quantizes_to_int8_and_still_reads_and_writes_fp16()
    {
        OnnxModel wide = HalfConvNet();
        new Float16Rewrite().Apply(wide);
        var options = new EncodeOptions { Profile = DeviceProfiles.CpuX64Vnni };
        var ranges = TestGraphs.SmallConvNetRanges();
        ranges["x_float32"] = ranges["x"];
        ranges["logits_float32"] = ranges["logits"];

        EncodeResult result = QdqEncoder.Encode(wide, ranges, options);

        Assert.Contains(result.QuantizedLayers, l => l.OpType == "Conv");
        DenseTensor x = HalfInput(8, seed: 6);
        double cosine = OrtHarness.Cosine(RunHalf(HalfConvNet(), x), RunHalf(result.Model, x));
        Assert.True(cosine > 0.98, $"cosine {cosine}");
    }

    /// <summary><see cref="TestGraphs.SmallConvNet"/> with every weight, the input and the output in float16.</summary>
    internal static OnnxModel HalfConvNet()
    {
        OnnxModel model = TestGraphs.SmallConvNet();
        Graph g = model.Graph;
        for (int i = 0; i < g.Initializers.Count; i++)
        {
            TensorValue t = g.Initializers[i];
            Half[] values = t.AsReadOnlySpan<float>().ToArray().Select(v => (Half)v).ToArray();
            g.Initializers.Replace(i, TensorValue.FromDense(t.Name!, DenseTensor.Create(ElementType.Float16, values.AsSpan(), t.Dims)));
        }

        g.Inputs[0].TensorType!.ElementType = ElementType.Float16;
        g.Outputs[0].TensorType!.ElementType = ElementType.Float16;
        return model;
    }

    private static DenseTensor HalfInput(int batch, int seed)
    {
        Half[] values = TestGraphs.Normal(seed, batch * 3 * 16 * 16, 1f).Select(v => (Half)v).ToArray();
        return DenseTensor.Create(ElementType.Float16, values.AsSpan(), new long[] { batch, 3, 16, 16 });
    }

    private static float[] RunHalf(OnnxModel model, DenseTensor x)
    {
        using var session = new InferenceSession(OnnxModelSaver.SaveToBytes(model), new SessionOptions { IntraOpNumThreads = 1 });
        DenseTensor y = session.Run(new Dictionary<string, DenseTensor> { ["x"] = x }, new[] { "logits" })["logits"];
        Assert.Equal(ElementType.Float16, y.ElementType);
        return y.AsSpan<Half>().ToArray().Select(v => (float)v).ToArray();
    }
}
