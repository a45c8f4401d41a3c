using QuantBuild.Engine.Config;
using QuantBuild.Engine.Pipeline;
using QuantBuild.Engine.Results;
using QuantBuild.Engine.Tests.Fallback;
using QuantBuild.Engine.Tests.Plugins;

namespace QuantBuild.Engine.Tests.Pipeline;

/// <summary>A target whose encoder keeps every node fp32 is an error, not a pass that ships the input again.</summary>
public sealed class NothingQuantizedTests
{
    [Fact]
    public void A_target_that_quantizes_nothing_fails_with_QB3007_and_writes_no_model()
    {
        using var folder = new TempFolder();
        string yaml = OutlierModels.WriteConfig(folder.Path, OutlierModels.Sample(), """
              everything-excluded: { device: cpu-x64-vnni, exclude: { op_types: [Conv, Gemm] } }
              int8: { device: cpu-x64-vnni }
            """);

        RunResult result = new QuantizePipeline(QuantizeConfigLoader.Load(yaml)).Run(new PipelineOptions());

        TargetResult nothing = result.Targets.Single(t => t.Name == "everything-excluded");
        Assert.Equal(TargetStatus.Error, nothing.Status);
        Assert.Equal("QB3007", nothing.ErrorCode);
        Assert.Contains("excluded by op type in quantize.yaml", nothing.Error, StringComparison.Ordinal);
        Assert.Null(nothing.OutputPath);
        Assert.DoesNotContain(nothing.Stages, s => s.Stage == "kernels");
        Assert.Equal(TargetStatus.Passed, result.Targets.Single(t => t.Name == "int8").Status);
    }
}
