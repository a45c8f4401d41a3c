using QuantBuild.Engine.Config;
using QuantBuild.Engine.Fallback;
using QuantBuild.Engine.Pipeline;
using QuantBuild.Engine.Results;
using QuantBuild.Engine.Tests.Plugins;
using Xunit.Abstractions;

namespace QuantBuild.Engine.Tests.Fallback;

/// <summary>
/// fallback: auto on the sample with weight outliers in fc1 (same function as the sample, 100× on the rows reading three
/// conv3 channels) under a fidelity gate (top-1 agrees with fp32 on at least 99 % of the 2000 images), which plain int8
/// and plain 4-bit fail.
/// </summary>
public sealed class FallbackPipelineTests(ITestOutputHelper output, FallbackPipelineTests.OutlierRun run) : IClassFixture<FallbackPipelineTests.OutlierRun>
{
    [Fact]
    public void Plain_int8_and_plain_4_bit_fail_the_gate()
    {
        Assert.Equal(TargetStatus.GateFailed, run.Target("int8").Status);
        Assert.Equal(TargetStatus.GateFailed, run.Target("int4").Status);
        Assert.Null(run.Target("int8").Fallback);
    }

    [Theory]
    [InlineData("int8-auto")]
    [InlineData("int4-auto")]
    public void Fallback_finds_a_passing_mixed_model_within_budget_and_explains_it(string name)
    {
        TargetResult t = run.Target(name);
        FallbackReport f = t.Fallback!;
        Log(t);
        Assert.Equal(TargetStatus.Passed, t.Status);
        Assert.True(f.Passed);
        Assert.False(f.BudgetExhausted);
        Assert.True(f.Trials <= f.MaxTrials);
        Assert.True(t.QuantizedValue >= 99.0, $"agreement {t.QuantizedValue}");
        Assert.NotEmpty(f.Kept);
        Assert.True(f.Kept.Count < f.Layers.Count, "fallback kept every layer");
        Assert.All(f.Layers.Where(l => f.Kept.Contains(l.Node)), l => Assert.Equal(l.Higher, l.Final));
        // Every layer was measured first, and every kept layer was shown to be needed (or is the only one).
        Assert.True(f.Steps.Count(s => s.Action == "measure") >= f.Layers.Count);
        if (f.Kept.Count > 1)
        {
            Assert.All(f.Kept, k => Assert.Contains(f.Steps, s => s.Action == "needed" && s.Layer == k));
        }

        Assert.True(t.OutputPath is not null && File.Exists(t.OutputPath));
        string report = File.ReadAllText(run.Result.ReportMarkdownPath!);
        Assert.Contains("fallback: auto", report, StringComparison.Ordinal);
        Assert.Contains(f.Kept[0], report, StringComparison.Ordinal);
    }

    [Fact]
    public void A_4_bit_recipe_tries_8_bit_first_and_escalates_to_fp32_only_when_8_bit_cannot_pass()
    {
        FallbackReport f = run.Target("int4-auto").Fallback!;
        int first8 = f.Steps.ToList().FindIndex(s => s.Precision == "8-bit");
        int firstFp32ForMatMul = f.Steps.ToList().FindIndex(s => s.Precision == "fp32" && s.Layer!.EndsWith("MatMul", StringComparison.Ordinal));
        Assert.True(first8 >= 0);
        Assert.True(firstFp32ForMatMul > first8);
        Assert.Contains("Escalated to fp32", f.Summary, StringComparison.Ordinal);
        Assert.DoesNotContain(f.Steps.Where(s => s.Precision == "8-bit"), s => s.Passed);
    }

    [Fact]
    public void A_size_target_that_fits_a_passing_model_passes_within_it()
    {
        TargetResult t = run.Target("int8-sized");
        FallbackReport f = t.Fallback!;
        Log(t);
        Assert.Equal(TargetStatus.Passed, t.Status);
        Assert.True(f.FinalBitsPerWeight <= 30.0 + 1e-9, $"{f.FinalBitsPerWeight}");
        Assert.True(f.FinalValue >= 99.0);
    }

    [Fact]
    public void A_size_target_too_small_to_pass_keeps_the_best_model_inside_it_and_fails_with_QB4101()
    {
        TargetResult t = run.Target("int4-sized");
        FallbackReport f = t.Fallback!;
        Log(t);
        Assert.Equal(6.0, f.MaxBitsPerWeight);
        Assert.Equal(TargetStatus.GateFailed, t.Status);
        Assert.Equal("QB4101", t.ErrorCode);
        Assert.Contains("within the size target", t.Error, StringComparison.Ordinal);
        Assert.True(f.FinalBitsPerWeight <= 6.0 + 1e-9, $"{f.FinalBitsPerWeight}");
        Assert.Contains(f.Steps, s => s.Action == "skip (size)");
    }

    [Fact]
    public void A_budget_too_small_fails_the_gate_with_QB4101_and_the_best_attempts_numbers()
    {
        TargetResult t = run.Target("int8-tiny");
        Log(t);
        Assert.Equal(TargetStatus.GateFailed, t.Status);
        Assert.Equal("QB4101", t.ErrorCode);
        Assert.True(t.Fallback!.BudgetExhausted);
        Assert.Equal(2, t.Fallback.Trials);
        Assert.Contains("quantize.yaml", t.Error, StringComparison.Ordinal);
        Assert.Null(t.OutputPath);
        Assert.True(t.QuantizedValue >= run.Target("int8").QuantizedValue);
    }

    private void Log(TargetResult t)
    {
        output.WriteLine($"{t.Name}: {t.Status} agreement {t.QuantizedValue} bytes {t.QuantizedBytes}");
        if (t.Fallback is { } f)
        {
            output.WriteLine(f.Summary);
            foreach (FallbackStep s in f.Steps)
            {
                output.WriteLine($"  {s.Trial,2} {s.Action,-12} {s.Layer} ({s.Precision}) → {s.Value:0.00} {(s.Passed ? "pass" : "fail")} {s.BitsPerWeight:0.00} b/w: {s.Why}");
            }
        }
    }

    /// <summary>One run of every target on the outlier model.</summary>
    public sealed class OutlierRun : IDisposable
    {
        private readonly TempFolder _folder = new();

        public OutlierRun()
        {
            var model = OutlierModels.WithMatMulClassifier(OutlierModels.WithWeightOutliers(OutlierModels.Sample(), 100f, 3, 17, 40));
            string yaml = OutlierModels.WriteConfig(_folder.Path, model, """
                  int8: { device: cpu-x64-vnni }
                  int4: { device: cpu-x64-vnni, weights: { bits: 4 } }
                  int8-auto: { device: cpu-x64-vnni, fallback: auto, budget: { trials: 20, seconds: 300 } }
                  int4-auto: { device: cpu-x64-vnni, weights: { bits: 4 }, fallback: auto, budget: { trials: 20, seconds: 300 } }
                  int4-sized: { device: cpu-x64-vnni, weights: { bits: 4 }, fallback: auto, size: { max_bits_per_weight: 6 } }
                  int8-sized: { device: cpu-x64-vnni, fallback: auto, size: { max_bits_per_weight: 30 } }
                  int8-tiny: { device: cpu-x64-vnni, fallback: auto, budget: { trials: 2 } }
                """, gate: "min: 99.0", metric: "agreement");
            // docs/benchmarks.md's numbers come from this model: set QB_KEEP_OUTLIER_MODEL to a folder to keep a copy.
            if (Environment.GetEnvironmentVariable("QB_KEEP_OUTLIER_MODEL") is { Length: > 0 } keep)
            {
                Directory.CreateDirectory(keep);
                File.Copy(Path.Combine(_folder.Path, "model.onnx"), Path.Combine(keep, "model.onnx"), overwrite: true);
            }

            Result = new QuantizePipeline(QuantizeConfigLoader.Load(yaml)).Run(new PipelineOptions());
        }

        public RunResult Result { get; }

        public TargetResult Target(string name) => Result.Targets.Single(t => t.Name == name);

        public void Dispose() => _folder.Dispose();
    }
}
