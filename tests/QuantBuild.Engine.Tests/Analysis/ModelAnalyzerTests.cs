using System.Runtime.InteropServices;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Analysis;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Data;
using QuantBuild.Engine.Quantization;
using QuantBuild.Engine.Tests.Data;
using QuantBuild.Engine.Tests.Plugins;
using QuantBuild.Engine.Tests.Quantization;
using QuantBuild.Onnx;
using Xunit.Abstractions;

namespace QuantBuild.Engine.Tests.Analysis;

/// <summary>
/// analyze on the Fashion-MNIST sample, checked against numbers this test computes on its own: each layer quantized
/// alone through <see cref="QdqEncoder"/> with its own min/max calibration, run in ONNX Runtime, scored by hand; and the
/// weight outlier ratios recomputed from the initializers.
/// </summary>
public sealed class ModelAnalyzerTests(ITestOutputHelper output, ModelAnalyzerTests.SampleAnalysis fixture) : IClassFixture<ModelAnalyzerTests.SampleAnalysis>
{
    private const int Samples = 200;

    [Fact]
    public void Single_layer_SQNR_and_top1_match_an_independent_encode_and_run_of_that_layer_alone()
    {
        TargetAnalysis analysis = Fixture.Analysis.Targets.Single();
        OnnxModel fp32 = OnnxModelLoader.Load(TestFiles.RepoRoot + "/samples/fashion-mnist/model.onnx");
        DenseTensor calibration = NpyReader.Read(TestFiles.Sample("calibration.npy"));
        DenseTensor images = Rows(NpyReader.Read(TestFiles.Sample("eval_images.npy")), Samples);
        long[] labels = NpyReader.Read(TestFiles.Sample("eval_labels.npy")).AsSpan<long>()[..Samples].ToArray();
        float[] reference = OrtHarness.Run(fp32, "input", images, "logits");
        var names = analysis.Layers.Select(l => l.Node).ToList();

        Assert.Equal(5, analysis.Layers.Count);
        foreach (LayerAnalysis layer in analysis.Layers)
        {
            var options = new EncodeOptions
            {
                Profile = Profiles.DeviceProfiles.CpuX64Vnni,
                ExcludedNodeNames = names.Where(n => n != layer.Node).ToHashSet(StringComparer.Ordinal),
            };
            var ranges = OrtHarness.MinMax(fp32, QdqEncoder.Plan(fp32, options), Batches(calibration, 32), "input");
            EncodeResult encoded = QdqEncoder.Encode(fp32, ranges, options);
            Assert.Equal(new[] { layer.Node }, encoded.QuantizedLayers.Where(l => l.OpType is "Conv" or "Gemm").Select(l => l.NodeName));

            float[] quantized = OrtHarness.Run(encoded.Model, "input", images, "logits");
            double sqnr = Sqnr(reference, quantized);
            double top1 = 100.0 * Correct(quantized, labels) / Samples;
            output.WriteLine($"{layer.Node}: analyze {layer.OnlyQuantized.SqnrDb:0.000} dB / {layer.OnlyQuantized.Value:0.00} %, independent {sqnr:0.000} dB / {top1:0.00} %");
            Assert.Equal(sqnr, layer.OnlyQuantized.SqnrDb, 0.05);
            Assert.Equal(top1, layer.OnlyQuantized.Value, 0.001);
        }
    }

    [Fact]
    public void Weight_outlier_ratios_match_ones_recomputed_from_the_initializers()
    {
        OnnxModel fp32 = OnnxModelLoader.Load(TestFiles.RepoRoot + "/samples/fashion-mnist/model.onnx");
        foreach (LayerAnalysis layer in Fixture.Analysis.Targets.Single().Layers)
        {
            TensorValue w = fp32.Graph.Initializers.Single(t => t.Name == layer.Weight);
            float[] values = MemoryMarshal.Cast<byte, float>(w.Data.Span).ToArray();
            // Conv [O,I,kh,kw] and Gemm with transB=1 [O,I]: output channels on axis 0, contiguous rows.
            int channels = (int)w.Dims[0];
            int row = values.Length / channels;
            double[] ratios = Enumerable.Range(0, channels).Select(c => NumpyStyleRatio(values.AsSpan(c * row, row))).ToArray();
            int worst = Array.IndexOf(ratios, ratios.Max());
            double median = ratios.Order().ElementAt(channels / 2) * (channels % 2) + (channels % 2 == 0 ? (ratios.Order().ElementAt(channels / 2 - 1) + ratios.Order().ElementAt(channels / 2)) / 2 : 0);

            output.WriteLine($"{layer.Node}: worst ch {worst} {ratios[worst]:0.0000} (analyze ch {layer.WeightWorstChannel} {layer.WeightWorstRatio:0.0000}), median {median:0.0000} (analyze {layer.WeightMedianRatio:0.0000})");
            Assert.Equal(worst, layer.WeightWorstChannel);
            Assert.Equal(ratios[worst], layer.WeightWorstRatio, 1e-9);
            Assert.Equal(median, layer.WeightMedianRatio, 1e-9);
            Assert.Equal(values.Min(), layer.WeightMin, 1e-7);
            Assert.Equal(values.Max(), layer.WeightMax, 1e-7);
        }
    }

    [Fact]
    public void Layers_come_worst_first_with_every_trial_on_the_bounded_subset_and_the_ladder_ends_at_fp32()
    {
        TargetAnalysis t = Fixture.Analysis.Targets.Single();
        Assert.Equal(Samples, t.TrialSamples);
        Assert.Equal(2000, t.EvaluationSamples);
        Assert.Contains(t.Notes, n => n.Contains($"first {Samples} of 2000", StringComparison.Ordinal));
        Assert.Equal(Enumerable.Range(1, t.Layers.Count), t.Layers.Select(l => l.Rank));
        for (int i = 1; i < t.Layers.Count; i++)
        {
            Assert.True(t.Layers[i - 1].OnlyQuantized.Drop >= t.Layers[i].OnlyQuantized.Drop);
        }

        Assert.Equal(23, t.Ladder.Count);
        Assert.Equal(23, t.Ladder[0].MantissaBits);
        Assert.Equal(t.Fp32Value, t.Ladder[0].Value);
        Assert.True(double.IsPositiveInfinity(t.Ladder[0].SqnrDb));
        // Fewer mantissa bits can only add noise: SQNR falls (weakly) down the ladder, by about 6 dB a bit.
        Assert.True(t.Ladder[^1].SqnrDb < t.Ladder[8].SqnrDb);
        Assert.InRange(t.Ladder.Single(p => p.MantissaBits == 8).SqnrDb, 35, 70);
        Assert.True(File.Exists(Fixture.Analysis.ReportHtmlPath));
        string html = File.ReadAllText(Fixture.Analysis.ReportHtmlPath!);
        Assert.Contains("aria-label=\"precision ladder\"", html, StringComparison.Ordinal);
        Assert.Contains(t.Layers[0].Node, File.ReadAllText(Fixture.Analysis.ReportMarkdownPath!), StringComparison.Ordinal);
    }

    private SampleAnalysis Fixture => fixture;

    private static double NumpyStyleRatio(ReadOnlySpan<float> values)
    {
        double[] abs = values.ToArray().Select(v => (double)Math.Abs(v)).Order().ToArray();
        double pos = 0.999 * (abs.Length - 1);
        int lo = (int)Math.Floor(pos);
        int hi = Math.Min(lo + 1, abs.Length - 1);
        double q = abs[lo] + (abs[hi] - abs[lo]) * (pos - lo);
        return abs[^1] / q;
    }

    private static double Sqnr(float[] reference, float[] quantized)
    {
        double signal = 0, noise = 0;
        for (int i = 0; i < reference.Length; i++)
        {
            signal += (double)reference[i] * reference[i];
            double d = (double)reference[i] - quantized[i];
            noise += d * d;
        }

        return 10 * Math.Log10(signal / noise);
    }

    private static int Correct(float[] logits, long[] labels)
    {
        int correct = 0;
        for (int s = 0; s < labels.Length; s++)
        {
            int best = 0;
            for (int k = 1; k < 10; k++)
            {
                if (logits[s * 10 + k] > logits[s * 10 + best])
                {
                    best = k;
                }
            }

            correct += best == labels[s] ? 1 : 0;
        }

        return correct;
    }

    private static IEnumerable<DenseTensor> Batches(DenseTensor all, int size)
    {
        long[] shape = all.ShapeArray();
        long row = all.ElementCount / shape[0];
        for (long start = 0; start < shape[0]; start += size)
        {
            long n = Math.Min(size, shape[0] - start);
            long[] s = (long[])shape.Clone();
            s[0] = n;
            yield return DenseTensor.FromFloats(all.AsSpan<float>().Slice((int)(start * row), (int)(n * row)), s);
        }
    }

    private static DenseTensor Rows(DenseTensor all, int count)
    {
        long[] shape = all.ShapeArray();
        long row = all.ElementCount / shape[0];
        shape[0] = count;
        return DenseTensor.FromFloats(all.AsSpan<float>()[..(int)(count * row)], shape);
    }

    /// <summary>One analyze run of the sample's x64 target, shared by the tests.</summary>
    public sealed class SampleAnalysis : IDisposable
    {
        private readonly TempFolder _folder = new();

        public SampleAnalysis()
        {
            QuantizeConfig config = QuantizeConfigLoader.Load(TestFiles.RepoRoot + "/samples/fashion-mnist/quantize.yaml");
            Analysis = new ModelAnalyzer(config).Run(new AnalyzeOptions
            {
                Targets = new[] { "x64" },
                Samples = Samples,
                KernelCheck = false,
                OutputDirectory = _folder.Path,
            });
        }

        public AnalysisResult Analysis { get; }

        public void Dispose() => _folder.Dispose();
    }
}
