using QuantBuild.Engine.Config;
using QuantBuild.Engine.Pipeline;
using QuantBuild.Engine.Results;
using Xunit.Abstractions;

namespace QuantBuild.Plugins.SmoothQuant.Tests;

/// <summary>
/// SmoothQuant through the real pipeline (plugin host, recipe, encoder, evaluation of the written bytes, gate) on
/// the outlier transformer, where plain W8A8 collapses, and on the plain sample, where it must not hurt.
/// </summary>
public sealed class PipelineTests : IDisposable
{
    private readonly ITestOutputHelper _output;
    private readonly string _root = Path.Combine(Path.GetTempPath(), "smoothquant-test-" + Guid.NewGuid().ToString("N"));

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

    private (TargetResult Plain, TargetResult Smooth) Run(string modelFile, string recipe)
    {
        string sample = Samples.Transformer;
        string config = Path.Combine(_root, "quantize.yaml");
        File.WriteAllText(config, $"""
            model: {Path.Combine(sample, modelFile)}
            output: out
            calibration:
              data: {Path.Combine(sample, "data", "calibration.npy")}
            evaluation:
              data: {Path.Combine(sample, "data", "eval_inputs.npy")}
              labels: {Path.Combine(sample, "data", "eval_labels.npy")}
              metric: top1
              batch_size: 100
            gate:
              max_drop: 60
            targets:
              plain:
                device: cpu-x64-vnni
              smooth:
                device: cpu-x64-vnni
                recipe:
            {recipe}
            """);

        QuantizeConfig loaded = QuantizeConfigLoader.Load(config, new ConfigValidationOptions { KnownPasses = null });
        RunResult run = new QuantizePipeline(loaded).Run(new PipelineOptions { WriteReports = false });
        foreach (TargetResult t in run.Targets)
        {
            _output.WriteLine($"{t.Name}: {t.Status} top1 {t.QuantizedValue} (fp32 {t.Fp32Value}), SQNR {t.OutputSqnrDb:0.00} dB, agreement {t.Agreement} {t.Error}");
        }

        TargetResult plain = run.Targets.Single(t => t.Name == "plain");
        TargetResult smooth = run.Targets.Single(t => t.Name == "smooth");
        Assert.Equal(TargetStatus.Passed, plain.Status);
        Assert.Equal(TargetStatus.Passed, smooth.Status);
        return (plain, smooth);
    }

    [Fact]
    public void SmoothQuantRecoversWhatPlainW8A8LosesOnTheOutlierModel()
    {
        (TargetResult plain, TargetResult smooth) = Run("model_outliers.onnx", "      - pass: smoothquant");
        double fp32 = plain.Fp32Value!.Value;
        double plainLoss = fp32 - plain.QuantizedValue!.Value;
        double smoothLoss = fp32 - smooth.QuantizedValue!.Value;

        // Measured: fp32 45.4 %, plain W8A8 19.7 % (SQNR 4.8 dB); SmoothQuant alpha 0.5 recovers to within a point.
        Assert.True(plainLoss > 10, $"plain W8A8 lost only {plainLoss:0.00} points: the model has no outliers to repair");
        Assert.True(smoothLoss < 0.2 * plainLoss, $"SmoothQuant lost {smoothLoss:0.00} points of plain's {plainLoss:0.00}");
        Assert.True(smoothLoss < 2.0, $"SmoothQuant lost {smoothLoss:0.00} points");
        Assert.True(smooth.OutputSqnrDb > plain.OutputSqnrDb + 10, $"SQNR {smooth.OutputSqnrDb:0.0} dB vs plain {plain.OutputSqnrDb:0.0} dB");
    }

    [Fact]
    public void SearchedSmoothQuantIsNoWorseThanPlainOnTheSampleWithoutOutliers()
    {
        (TargetResult plain, TargetResult smooth) = Run("model.onnx", """
                  - pass: smoothquant
                    search: {alpha_min: 0.3, alpha_max: 1.0, alpha_step: 0.1}
            """);

        // 12 800 predictions: one point is 128 of them; half a point is well above run-to-run noise of the encoding.
        Assert.True(smooth.QuantizedValue >= plain.QuantizedValue - 0.5, $"SmoothQuant {smooth.QuantizedValue} vs plain {plain.QuantizedValue}");
        Assert.True(smooth.OutputSqnrDb >= plain.OutputSqnrDb - 1, $"SQNR {smooth.OutputSqnrDb:0.0} dB vs plain {plain.OutputSqnrDb:0.0} dB");
    }
}
