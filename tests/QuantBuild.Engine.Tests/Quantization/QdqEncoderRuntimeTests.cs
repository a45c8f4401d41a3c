using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Quantization;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Data;
using QuantBuild.Engine.Profiles;
using QuantBuild.Engine.Quantization;
using QuantBuild.Onnx;
using Xunit.Abstractions;
using QuantBuild.Tests.Shared;

namespace QuantBuild.Engine.Tests.Quantization;

/// <summary>The encoded models run in ONNX Runtime, stay close to fp32, and really become integer kernels.</summary>
public sealed class QdqEncoderRuntimeTests(ITestOutputHelper output)
{
    private static readonly EncodeOptions Vnni = new() { Profile = DeviceProfiles.CpuX64Vnni };

    [Fact]
    public void Small_conv_net_runs_in_ORT_close_to_fp32_and_fuses_into_QLinearConv_and_QGemm()
    {
        OnnxModel fp32 = TestGraphs.SmallConvNet();
        DenseTensor calibration = DenseTensor.FromFloats(TestGraphs.Normal(100, 64 * 3 * 16 * 16, 1f), 64, 3, 16, 16);
        DenseTensor eval = DenseTensor.FromFloats(TestGraphs.Normal(200, 32 * 3 * 16 * 16, 1f), 32, 3, 16, 16);
        var ranges = OrtHarness.MinMax(fp32, QdqEncoder.Plan(fp32, Vnni), new[] { calibration }, "x");

        EncodeResult result = QdqEncoder.Encode(fp32, ranges, Vnni);

        float[] expected = OrtHarness.Run(fp32, "x", eval, "logits");
        float[] actual = OrtHarness.Run(result.Model, "x", eval, "logits");
        double cosine = OrtHarness.Cosine(expected, actual);
        output.WriteLine($"cosine {cosine:F5}");
        Assert.True(cosine > 0.99, $"cosine {cosine}");

        OnnxModel optimized = OrtHarness.Optimized(result.Model);
        var counts = OrtHarness.OpCounts(optimized);
        output.WriteLine(OrtHarness.Describe(counts));
        Assert.Equal(2, counts.GetValueOrDefault("QLinearConv"));
        Assert.Equal(1, counts.GetValueOrDefault("QGemm"));
        Assert.Equal(0, OrtHarness.DequantizeIntoConv(optimized));
        Assert.False(counts.ContainsKey("Conv"), OrtHarness.Describe(counts));
        Assert.False(counts.ContainsKey("Gemm"), OrtHarness.Describe(counts));
    }

    [Fact]
    public void Fashion_mnist_sample_quantized_with_real_images_agrees_with_fp32_and_runs_as_integer_kernels()
    {
        string root = RepoRoot();
        OnnxModel fp32 = OnnxModelLoader.Load(Path.Combine(root, "samples", "fashion-mnist", "model.onnx"));
        DenseTensor calibration = Rows(NpyReader.Read(Path.Combine(root, "samples", "fashion-mnist", "data", "calibration.npy")), 256);
        DenseTensor eval = Rows(NpyReader.Read(Path.Combine(root, "samples", "fashion-mnist", "data", "eval_images.npy")), 500);
        var ranges = OrtHarness.MinMax(fp32, QdqEncoder.Plan(fp32, Vnni), new[] { calibration }, "input");

        EncodeResult result = QdqEncoder.Encode(fp32, ranges, Vnni);

        float[] expected = OrtHarness.Run(fp32, "input", eval, "logits");
        float[] actual = OrtHarness.Run(result.Model, "input", eval, "logits");
        double cosine = OrtHarness.Cosine(expected, actual);
        int agree = OrtHarness.ArgMaxAgreement(expected, actual, 10);
        output.WriteLine($"cosine {cosine:F5}, top-1 agreement {agree}/500");
        Assert.True(cosine > 0.99, $"cosine {cosine}");
        Assert.True(agree >= 490, $"top-1 agreement {agree}/500");
        Assert.Empty(result.UnquantizedNodes);

        var before = OrtHarness.OpCounts(OrtHarness.Optimized(fp32));
        OnnxModel optimized = OrtHarness.Optimized(result.Model);
        var after = OrtHarness.OpCounts(optimized);
        output.WriteLine($"fp32 optimized:  {OrtHarness.Describe(before)}");
        output.WriteLine($"QDQ as written:  {OrtHarness.Describe(OrtHarness.OpCounts(result.Model))}");
        output.WriteLine($"QDQ optimized:   {OrtHarness.Describe(after)}");
        Assert.Equal(3, after.GetValueOrDefault("QLinearConv"));
        Assert.Equal(2, after.GetValueOrDefault("QGemm"));
        Assert.Equal(0, OrtHarness.DequantizeIntoConv(optimized));
        Assert.False(after.ContainsKey("Conv"), OrtHarness.Describe(after));
        Assert.False(after.ContainsKey("Gemm"), OrtHarness.Describe(after));
        output.WriteLine($"median ms per 500 images, 1 thread: fp32 {MedianMs(fp32, eval):F1}, int8 {MedianMs(result.Model, eval):F1}");
    }

    // Printed for the record, not asserted: tests check behaviour, the benchmark project measures speed.
    private static double MedianMs(OnnxModel model, DenseTensor input)
    {
        using var session = new Runtime.InferenceSession(OnnxModelSaver.SaveToBytes(model), new Runtime.SessionOptions { IntraOpNumThreads = 1 });
        var feed = new Dictionary<string, DenseTensor> { ["input"] = input };
        session.Run(feed);
        var times = new List<double>();
        for (int i = 0; i < 7; i++)
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            session.Run(feed);
            times.Add(watch.Elapsed.TotalMilliseconds);
        }

        times.Sort();
        return times[times.Count / 2];
    }

    private static DenseTensor Rows(DenseTensor all, int count)
    {
        long[] shape = all.ShapeArray();
        long rowElements = all.ElementCount / shape[0];
        shape[0] = Math.Min(count, shape[0]);
        return DenseTensor.FromFloats(all.AsSpan<float>()[..(int)(shape[0] * rowElements)], shape);
    }

    private static string RepoRoot() => RepositoryRoot.Path;
}
