namespace QuantBuild.Engine.Analysis;

/// <summary>The result of <c>quantbuild analyze</c>.</summary>
public sealed record AnalysisResult
{
    /// <summary>The yaml analysed.</summary>
    public required string ConfigPath { get; init; }

    /// <summary>The fp32 model.</summary>
    public required string ModelPath { get; init; }

    /// <summary>One entry per selected target.</summary>
    public required IReadOnlyList<TargetAnalysis> Targets { get; init; }

    /// <summary>The Markdown report, when written.</summary>
    public string? ReportMarkdownPath { get; init; }

    /// <summary>The HTML report, when written.</summary>
    public string? ReportHtmlPath { get; init; }

    /// <summary>Wall time of the whole analysis.</summary>
    public double TotalSeconds { get; init; }
}
