namespace QuantBuild.Engine.Results;

/// <summary>One `quantbuild run`: the source, the fp32 baseline, and every target's result.</summary>
public sealed record RunResult
{
    /// <summary>The quantize.yaml.</summary>
    public required string ConfigPath { get; init; }

    /// <summary>The fp32 model.</summary>
    public required string ModelPath { get; init; }

    /// <summary>SHA-256 of the model file, hex.</summary>
    public required string ModelSha256 { get; init; }

    /// <summary>QuantBuild's version.</summary>
    public required string ToolVersion { get; init; }

    /// <summary>The output folder.</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>Per-target results in yaml order.</summary>
    public required IReadOnlyList<TargetResult> Targets { get; init; }

    /// <summary>Run-wide stage times (load, fp32 baseline).</summary>
    public required IReadOnlyList<StageTiming> Stages { get; init; }

    /// <summary>The Markdown report.</summary>
    public string? ReportMarkdownPath { get; init; }

    /// <summary>The HTML report.</summary>
    public string? ReportHtmlPath { get; init; }

    /// <summary>Wall time of the whole run.</summary>
    public double TotalSeconds { get; init; }

    /// <summary>True when every target passed.</summary>
    public bool AllPassed => Targets.All(t => t.Status == TargetStatus.Passed);
}
