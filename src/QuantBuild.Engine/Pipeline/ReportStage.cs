using System.Diagnostics;
using QuantBuild.Engine.Files;
using QuantBuild.Engine.Reports;
using QuantBuild.Engine.Results;

namespace QuantBuild.Engine.Pipeline;

/// <summary>The run's last stage: gathers every target's result and writes the Markdown and HTML reports (manifests were written by Package).</summary>
internal static class ReportStage
{
    public static RunResult Run(ValidatedRun run, string modelSha256, IReadOnlyList<TargetResult> targets, IReadOnlyList<StageTiming> stages, Stopwatch total)
    {
        var result = new RunResult
        {
            ConfigPath = run.Config.ConfigPath,
            ModelPath = run.Config.ModelPath,
            ModelSha256 = modelSha256,
            ToolVersion = ToolInfo.Version,
            OutputDirectory = run.OutputDirectory,
            Targets = targets,
            Stages = stages,
            TotalSeconds = total.Elapsed.TotalSeconds,
        };
        if (!run.Options.WriteReports)
        {
            return result;
        }

        string markdown = Path.Combine(run.OutputDirectory, "quantbuild-report.md");
        string html = Path.Combine(run.OutputDirectory, "quantbuild-report.html");
        AtomicFile.WriteTextIfChanged(markdown, RunReport.Markdown(result));
        AtomicFile.WriteTextIfChanged(html, RunReport.Html(result));
        return result with { ReportMarkdownPath = markdown, ReportHtmlPath = html, TotalSeconds = total.Elapsed.TotalSeconds };
    }
}
