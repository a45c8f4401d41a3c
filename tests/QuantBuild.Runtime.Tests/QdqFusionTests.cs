using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Onnx;
using QuantBuild.Runtime.Tests.Support;
using Xunit.Abstractions;

namespace QuantBuild.Runtime.Tests;

/// <summary>
/// The encoding QuantBuild ships (QDQ, int8 per-channel weights, uint8 activations) must be what ONNX Runtime
/// turns into integer kernels; otherwise the "quantized" model runs in float and the speed-up is fiction.
/// </summary>
public sealed class QdqFusionTests(ITestOutputHelper output) : IDisposable
{
    private const float InScale = 2f / 255f;
    private const byte InZero = 128;
    private const float OutScale = 0.05f;
    private const byte OutZero = 128;

    private readonly string _dir = Directory.CreateTempSubdirectory("qb-qdq-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Optimizing_a_QDQ_model_fuses_Conv_and_MatMul_into_integer_kernels()
    {
        string optimized = Path.Combine(_dir, "optimized.onnx");
        using (new InferenceSession(QdqModel(out _, out _), new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.All,
            OptimizedModelFilePath = optimized,
        }))
        {
        }

        OnnxModel model = OnnxModelLoader.Load(optimized);
        var ops = model.Graph.Nodes.Select(n => n.OpType).ToHashSet();
        output.WriteLine($"optimized graph: {string.Join(", ", model.Graph.Nodes.Select(n => $"{n.Domain}:{n.OpType}"))}");
        Assert.Contains("QLinearConv", ops);
        Assert.True(
            ops.Overlaps(["QLinearMatMul", "MatMulInteger", "MatMulIntegerToFloat"]),
            $"no integer MatMul kernel among: {string.Join(", ", ops.Order())}");
        Assert.DoesNotContain("Conv", ops);
        Assert.DoesNotContain("MatMul", ops);
    }

    [Fact]
    public void The_fused_QDQ_model_matches_a_fake_quantized_float_reference_within_one_output_step()
    {
        byte[] model = QdqModel(out float[] convWeights, out float[] matWeights);
        float[] image = Reference.Values(1 * 3 * 8 * 8, seed: 51);
        float[] rows = Reference.Values(2 * 16, seed: 52);

        using var session = new InferenceSession(model, new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.All });
        var outputs = session.Run(new Dictionary<string, DenseTensor>
        {
            ["image"] = DenseTensor.FromFloats(image, 1, 3, 8, 8),
            ["rows"] = DenseTensor.FromFloats(rows, 2, 16),
        });

        float[] conv = Reference.Conv2d(Reference.FakeQuantU8(image, InScale, InZero), 1, 3, 8, 8, convWeights, 4, 3, 3, null, 1, 1, out _, out _);
        float[] mat = Reference.Gemm(Reference.FakeQuantU8(rows, InScale, InZero), matWeights, null, 2, 16, 8);
        // Integer kernels requantize once; the reference rounds the float sum. They differ by at most one step.
        Reference.AssertClose(Reference.FakeQuantU8(conv, OutScale, OutZero), outputs["features"].AsSpan<float>(), OutScale * 1.01f);
        Reference.AssertClose(Reference.FakeQuantU8(mat, OutScale, OutZero), outputs["logits"].AsSpan<float>(), OutScale * 1.01f);
    }

    [Fact]
    public void Session_config_entries_reach_ORT_for_example_saving_the_optimized_model_in_ORT_format()
    {
        string optimized = Path.Combine(_dir, "optimized.ort");
        var options = new SessionOptions { OptimizedModelFilePath = optimized };
        options.AddConfigEntry("session.save_model_format", "ORT");

        using (new InferenceSession(QdqModel(out _, out _), options))
        {
        }

        // An ORT-format model is a flatbuffer whose file identifier, at bytes 4..8, is "ORTM".
        byte[] header = File.ReadAllBytes(optimized)[4..8];
        Assert.Equal("ORTM"u8.ToArray(), header);
    }

    /// <summary>
    /// image[1,3,8,8] → Q/DQ → Conv(int8 per-channel weights, pad 1) → Q/DQ → features;
    /// rows[2,16] → Q/DQ → MatMul(int8 per-column weights) → Q/DQ → logits.
    /// </summary>
    private static byte[] QdqModel(out float[] convWeights, out float[] matWeights)
    {
        var builder = new ModelBuilder()
            .Input("image", ElementType.Float, 1, 3, 8, 8)
            .Input("rows", ElementType.Float, 2, 16)
            .Output("features", ElementType.Float, 1, 4, 8, 8)
            .Output("logits", ElementType.Float, 2, 8)
            .Initializer("in_scale", ElementType.Float, [InScale])
            .Initializer("in_zero", ElementType.UInt8, [InZero])
            .Initializer("out_scale", ElementType.Float, [OutScale])
            .Initializer("out_zero", ElementType.UInt8, [OutZero]);

        convWeights = AddInt8Weights(builder, "conv_w", [4, 3, 3, 3], axis: 0, seed: 61);
        matWeights = AddInt8Weights(builder, "mat_w", [16, 8], axis: 1, seed: 62);

        builder
            .Node("QuantizeLinear", ["image", "in_scale", "in_zero"], ["image_q"])
            .Node("DequantizeLinear", ["image_q", "in_scale", "in_zero"], ["image_dq"])
            .Node("DequantizeLinear", ["conv_w_q", "conv_w_scale", "conv_w_zero"], ["conv_w_dq"], NodeAttribute.FromInt("axis", 0))
            .Node("Conv", ["image_dq", "conv_w_dq"], ["conv"], NodeAttribute.FromInts("pads", 1, 1, 1, 1))
            .Node("QuantizeLinear", ["conv", "out_scale", "out_zero"], ["conv_q"])
            .Node("DequantizeLinear", ["conv_q", "out_scale", "out_zero"], ["features"])
            .Node("QuantizeLinear", ["rows", "in_scale", "in_zero"], ["rows_q"])
            .Node("DequantizeLinear", ["rows_q", "in_scale", "in_zero"], ["rows_dq"])
            .Node("DequantizeLinear", ["mat_w_q", "mat_w_scale", "mat_w_zero"], ["mat_w_dq"], NodeAttribute.FromInt("axis", 1))
            .Node("MatMul", ["rows_dq", "mat_w_dq"], ["mat"])
            .Node("QuantizeLinear", ["mat", "out_scale", "out_zero"], ["mat_q"])
            .Node("DequantizeLinear", ["mat_q", "out_scale", "out_zero"], ["logits"]);
        return builder.ToBytes();
    }

    /// <summary>Symmetric int8 weights, one scale per channel on <paramref name="axis"/>; returns their dequantized values.</summary>
    private static float[] AddInt8Weights(ModelBuilder builder, string name, long[] dims, int axis, int seed)
    {
        int count = (int)dims.Aggregate(1L, (a, b) => a * b);
        int channels = (int)dims[axis];
        int inner = (int)dims.Skip(axis + 1).Aggregate(1L, (a, b) => a * b);
        float[] values = Reference.Values(count, seed);
        var scales = new float[channels];
        for (int i = 0; i < count; i++)
        {
            int c = i / inner % channels;
            scales[c] = Math.Max(scales[c], Math.Abs(values[i]) / 127f);
        }

        var q = new sbyte[count];
        var dequantized = new float[count];
        for (int i = 0; i < count; i++)
        {
            int c = i / inner % channels;
            q[i] = (sbyte)Math.Clamp(Math.Round(values[i] / scales[c], MidpointRounding.ToEven), -127, 127);
            dequantized[i] = q[i] * scales[c];
        }

        builder
            .Initializer($"{name}_q", ElementType.Int8, q, dims)
            .Initializer($"{name}_scale", ElementType.Float, scales, channels)
            .Initializer($"{name}_zero", ElementType.Int8, new sbyte[channels], channels);
        return dequantized;
    }
}
