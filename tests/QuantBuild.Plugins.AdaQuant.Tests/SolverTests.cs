using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Passes;
using QuantBuild.Cli;
using QuantBuild.Onnx;

namespace QuantBuild.Plugins.AdaQuant.Tests;

/// <summary><c>solver</c>: which layers <c>auto</c> gives GPTQ, GPTQ on the sample CNN's real layers, and the refusals.</summary>
public sealed class SolverTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "quantbuild-solver-" + Guid.NewGuid().ToString("N"));

    private static string Sample => Path.Combine(EndToEndTests.RepoRoot(), "samples", "fashion-mnist");

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
    public void AutoKeepsTheGradientWhereItsIterationsFitAndTakesGptqAboveThat()
    {
        LayerObjective Objective(int rows, int k, int n)
        {
            var m = new Moments(k, 1, false);
            if (n * 2 < k)
            {
                m.Retain(n);
            }

            m.Add(0, new float[n * k], null, n);
            return LayerObjective.Build(m, new float[rows * k], rows, centered: false);
        }

        var auto = new OptimizerSettings { Solver = AdaQuantSolver.Auto, Iterations = 1000 };
        // The sample CNN's widest layer (128×1600, 256 rows: H applied as Xᵀ(X·d)) stays on the gradient: 1.06·10¹¹.
        Assert.False(SolverRule.UsesGptq(Objective(128, 1600, 256), auto));
        Assert.False(SolverRule.UsesGptq(Objective(256, 512, 1024), auto));
        // 1024 × 1024 at 1000 iterations is 1.1·10¹² multiply-adds, over 2^38.
        Assert.True(SolverRule.UsesGptq(Objective(1024, 1024, 2048), auto));
        Assert.False(SolverRule.UsesGptq(Objective(1024, 1024, 2048), auto with { Iterations = 200 }));
        // A time budget the iterations do not fit in (6.8·10¹⁰ ≈ 14 s at 5·10⁹/s) takes GPTQ too.
        Assert.True(SolverRule.UsesGptq(Objective(256, 512, 1024), auto with { BudgetSeconds = 2 }));
        Assert.False(SolverRule.UsesGptq(Objective(1024, 1024, 2048), auto with { Solver = AdaQuantSolver.Gradient }));
        Assert.True(SolverRule.UsesGptq(Objective(8, 8, 64), auto with { Solver = AdaQuantSolver.Gptq }));
        Assert.False(SolverRule.UsesGptq(Objective(1024, 1024, 2048), auto with { Mode = AdaQuantMode.Nearest }));
    }

    [Fact]
    public void GptqBeatsRoundToNearestOnEveryLayerOfTheSampleCnn()
    {
        OnnxModel model = OnnxModelLoader.Load(Path.Combine(Sample, "model.onnx"));
        var context = SampleContext.For(model, Path.Combine(Sample, "data", "calibration.npy"), 64, new TargetWeightFormat(4, true, null));
        var pass = new AdaQuantPass();
        pass.Run(context, new AdaQuantOptions { Solver = AdaQuantSolver.Gptq });

        Assert.Equal(5, pass.LastReport.Count);
        Assert.All(pass.LastReport, r => Assert.True(r.Mse < r.NearestMse, $"{r.Layer}: gptq {r.Mse:G4} vs nearest {r.NearestMse:G4}"));
        Assert.All(pass.LastReport, r => Assert.Equal(0, r.Iterations));
        Assert.Contains(context.Lines, l => l.Contains("gptq", StringComparison.Ordinal) && l.Contains("total", StringComparison.Ordinal));
        Assert.All(context.Encodings.Values, e => Assert.Equal("adaquant (gptq)", e.Origin));
    }

    [Fact]
    public void A_solver_named_for_mode_nearest_is_QB2303()
    {
        OnnxModel model = OnnxModelLoader.Load(Path.Combine(Sample, "model.onnx"));
        var context = SampleContext.For(model, Path.Combine(Sample, "data", "calibration.npy"), 64, new TargetWeightFormat(4, true, null));
        var error = Assert.Throws<QuantBuildException>(() =>
            new AdaQuantPass().Run(context, new AdaQuantOptions { Mode = AdaQuantMode.Nearest, Solver = AdaQuantSolver.Gptq }));
        Assert.Equal("QB2303", error.Code);
        Assert.Empty(context.Encodings);
    }

    [Fact]
    public void An_unknown_solver_is_refused_at_validation_with_QB1013()
    {
        Directory.CreateDirectory(_root);
        string config = Path.Combine(_root, "quantize.yaml");
        File.WriteAllText(config,
            $"model: {Path.Combine(Sample, "model.onnx")}\n" +
            "output: out\n" +
            $"calibration:\n  data: {Path.Combine(Sample, "data", "calibration.npy")}\n" +
            "targets:\n  w4:\n    device: cpu-x64-vnni\n    weights: {bits: 4}\n" +
            "    recipe:\n      - {pass: adaquant, solver: newton}\n");
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CliApp.Run(["run", "-c", config, "--no-cache"], stdout, stderr, interactive: false);
        Assert.NotEqual(0, code);
        string all = stdout.ToString() + stderr;
        Assert.Contains("QB1013", all, StringComparison.Ordinal);
        Assert.Contains("gptq", all, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_root, "out", "w4")));
    }
}
