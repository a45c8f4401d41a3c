using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Analysis;
using QuantBuild.Engine.Config;
using QuantBuild.Engine.Quantization;
using QuantBuild.Engine.Results;
using QuantBuild.Engine.Tests.Data;
using QuantBuild.Engine.Tests.Plugins;
using QuantBuild.Engine.Tests.Quantization;

namespace QuantBuild.Engine.Tests.Analysis;

/// <summary>
/// analyze on Fixtures/make_control_flow_models.py's loop_growing (a Loop whose carried sequence grows one row per
/// step): the body's MatMul on the growing sequence cannot be calibrated, and analyze says why it stays fp32 as `run`
/// does, while the body's other MatMul is analysed like any layer.
/// </summary>
public sealed class BodyAnalysisTests
{
    [Fact]
    public void Analyze_gives_a_loop_body_layer_left_fp32_the_calibrators_reason_and_analyses_the_body_layer_it_could_calibrate()
    {
        using var folder = new TempFolder();
        string yaml = GrowingLoopConfig(folder.Path);

        AnalysisResult result = new ModelAnalyzer(QuantizeConfigLoader.Load(yaml)).Run(new AnalyzeOptions
        {
            Samples = 8, Ladder = false, KernelCheck = false, OutputDirectory = folder.Path,
        });

        TargetAnalysis t = result.Targets.Single();
        string why = Branches.Varying("seq_in");
        Assert.Equal(why, t.Unobserved["seq_in"]);
        Assert.Contains(new FloatNode("grow_seq_matmul", "MatMul", why), t.FloatNodes);
        Assert.Equal(["grow_row_matmul"], t.Layers.Select(l => l.Node));
        Assert.Equal(8, t.TrialSamples);
        Assert.Contains($"| grow_seq_matmul | MatMul | {why} |", File.ReadAllText(result.ReportMarkdownPath!), StringComparison.Ordinal);
        Assert.Contains("<td>grow_seq_matmul</td><td>MatMul</td>", File.ReadAllText(result.ReportHtmlPath!), StringComparison.Ordinal);
    }

    /// <summary>quantize.yaml over loop_growing.onnx with 16 calibration rows of x [16] and one int8 target (SQNR, no evaluation).</summary>
    internal static string GrowingLoopConfig(string folder)
    {
        File.Copy(DynamicActivationTests.Fixture("loop_growing.onnx"), Path.Combine(folder, "model.onnx"));
        DataSourceTests.WriteNpy(Path.Combine(folder, "calibration.npy"), DenseTensor.FromFloats(TestGraphs.Normal(60, 16 * 16, 1f), 16, 16));
        string yaml = Path.Combine(folder, "quantize.yaml");
        File.WriteAllText(yaml, """
            model: model.onnx
            output: out
            calibration: { data: calibration.npy, batch_size: 4, method: minmax }
            targets:
              int8: { device: cpu-x64-vnni }
            """);
        return yaml;
    }
}
