using QuantBuild.Engine.Pipeline;
using QuantBuild.Engine.Results;
using QuantBuild.Engine.Reports;

namespace QuantBuild.Engine.Tests.Reports;

/// <summary>The HTML report says what the Markdown one says: stage times and paths, and which times a cache hit reused.</summary>
public sealed class RunReportTests
{
    private static RunResult Run(bool cached) => new()
    {
        ConfigPath = "/work/app/quantize.yaml", ModelPath = "/work/app/model.onnx", ModelSha256 = new string('a', 64), ToolVersion = "0.1.0",
        OutputDirectory = "/work/app/quantized", Stages = [],
        Targets =
        [
            new TargetResult
            {
                Name = "x64", Device = "cpu-x64-vnni", Status = TargetStatus.Passed, Cached = cached, Metric = "top1", Unit = "%",
                Fp32Value = 91.9, QuantizedValue = 91.95, Fp32Bytes = 920_492, QuantizedBytes = 245_921,
                OutputPath = "/work/app/quantized/model.x64.onnx",
                Stages = cached
                    ? [new StageTiming("cache", 0.01)]
                    : [new StageTiming("calibrate", 1.5), new StageTiming("evaluate", 2.25)],
                RecordedStages = cached ? [new StageTiming("calibrate", 1.5), new StageTiming("evaluate", 2.25)] : null,
            },
        ],
    };

    [Fact]
    public void Html_has_the_stage_times_and_the_model_path_of_each_target()
    {
        string html = RunReport.Html(Run(cached: false));

        Assert.Contains("<th>stages</th>", html);
        Assert.Contains("calibrate 1.50s, evaluate 2.25s", html);
        Assert.Contains("<code>/work/app/quantized/model.x64.onnx</code>", html);
    }

    [Fact]
    public void A_cache_hit_says_its_stage_times_are_the_storing_runs_in_both_reports()
    {
        RunResult run = Run(cached: true);

        const string expected = "cache 0.01s (from the cache; the run that stored it: calibrate 1.50s, evaluate 2.25s)";
        Assert.Contains(expected, RunReport.Html(run));
        Assert.Contains(expected, RunReport.Markdown(run));
    }
}
