using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Pipeline;
using QuantBuild.Onnx;
using Xunit.Abstractions;

namespace QuantBuild.Plugins.Nupes.Tests;

/// <summary>NUPES through the real pipeline on the CNN sample: recipe, encoder, evaluation of the written bytes, gate.</summary>
public sealed class PipelineTests : IDisposable
{
    private readonly ITestOutputHelper _output;
    private readonly string _root = Path.Combine(Path.GetTempPath(), "nupes-test-" + Guid.NewGuid().ToString("N"));

    public PipelineTests(ITestOutputHelper output)
    {
        _output = output;
        Directory.CreateDirectory(_root);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public void FourBitNupesShrinksTheFileAndBeatsUniformFourBitOnTheSample()
    {
        string sample = TestData.CnnSample;
        string config = Path.Combine(_root, "quantize.yaml");
        File.WriteAllText(config, $"""
            model: {Path.Combine(sample, "model.onnx")}
            output: out
            calibration:
              data: {Path.Combine(sample, "data", "calibration.npy")}
            evaluation:
              data: {Path.Combine(sample, "data", "eval_images.npy")}
              labels: {Path.Combine(sample, "data", "eval_labels.npy")}
              metric: top1
              batch_size: 250
            gate:
              max_drop: 1.0
            targets:
              nupes:
                device: cpu-x64-vnni
                recipe:
                  - pass: nupes
                    bits: 4
              uniform:
                device: cpu-x64-vnni
                recipe:
                  - pass: nupes
                    bits: 4
                    exponent:
                      min: 1
                      max: 1
                    optimize_codes: false
            """);

        QuantizeConfig loaded = QuantizeConfigLoader.Load(config, new ConfigValidationOptions { KnownPasses = null });
        RunResult run = new QuantizePipeline(loaded).Run(new PipelineOptions { WriteReports = false });
        TargetResult nupes = run.Targets.Single(t => t.Name == "nupes");
        TargetResult uniform = run.Targets.Single(t => t.Name == "uniform");
        foreach (TargetResult t in run.Targets)
        {
            _output.WriteLine($"{t.Name}: {t.Status} top1 {t.QuantizedValue} (fp32 {t.Fp32Value}), {t.QuantizedBytes} of {t.Fp32Bytes} bytes, SQNR {t.OutputSqnrDb:0.00} dB {t.Error}");
        }

        Assert.Equal(TargetStatus.Passed, nupes.Status);
        Assert.Equal(TargetStatus.Passed, uniform.Status);
        Assert.NotNull(nupes.QuantizedValue);

        // 4 bits of 32: the file is about an eighth of the fp32 one (biases, scales and the graph stay).
        Assert.True(nupes.QuantizedBytes < 0.15 * nupes.Fp32Bytes, $"{nupes.QuantizedBytes} of {nupes.Fp32Bytes}");

        // Same bits, same per-channel scales, same file format: NUPES is more accurate than the uniform grid.
        Assert.True(nupes.QuantizedValue >= uniform.QuantizedValue, $"nupes {nupes.QuantizedValue} vs uniform {uniform.QuantizedValue}");
        Assert.True(nupes.OutputSqnrDb > uniform.OutputSqnrDb + 3, $"SQNR nupes {nupes.OutputSqnrDb} vs uniform {uniform.OutputSqnrDb}");

        // The written file holds packed uint8 codes instead of the fp32 weights, decoded by a Gather over the table.
        OnnxModel written = OnnxModelLoader.Load(nupes.OutputPath!);
        Assert.DoesNotContain(written.Graph.Initializers, t => t.ElementType == ElementType.Float && t.ElementCount > 10000);
        Assert.Contains(written.Graph.Initializers, t => t.Name!.EndsWith(".codes4b", StringComparison.Ordinal) && t.ElementType == ElementType.UInt8);
        Assert.Equal(5, written.Graph.Nodes.Count(n => n.OpType == "Gather"));
        Assert.Equal(5, nupes.FloatNodes.Count(f => f.OpType is "Conv" or "Gemm"));
    }

    [Theory]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(8)]
    public void DataFreeNupesHasLessWeightErrorThanUniformOnEverySampleLayer(int bits)
    {
        var range = new ExponentRange();
        double total = 0, totalUniform = 0;
        foreach ((string node, float[] rows, int channels, int length) in TestData.Layers(Path.Combine(TestData.CnnSample, "model.onnx")))
        {
            var m = new LayerMatrix(rows, channels, length, 0);
            double uniform = LayerQuantizer.Quantize(m, bits, 1.0, WeightError.Instance).Error;
            LayerQuantization nupes = LayerQuantizer.OptimizeCodes(m, LayerQuantizer.Search(m, bits, range, WeightError.Instance), WeightError.Instance);
            _output.WriteLine($"{node}: a={nupes.Exponent:0.###} MSE {nupes.Error / rows.Length:G4} vs uniform {uniform / rows.Length:G4}");
            Assert.True(nupes.Error < uniform, $"{node}: {nupes.Error} vs {uniform}");
            total += nupes.Error;
            totalUniform += uniform;
        }

        _output.WriteLine($"overall MSE ratio {total / totalUniform:0.000}");
        Assert.True(total < (bits == 8 ? 1.0 : 0.85) * totalUniform);
    }
}
