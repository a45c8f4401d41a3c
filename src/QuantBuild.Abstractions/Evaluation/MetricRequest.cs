namespace QuantBuild.Abstractions.Evaluation;

/// <summary>What the host tells a plugin metric when it creates it for a run.</summary>
public sealed record MetricRequest
{
    /// <summary>The folder of quantize.yaml: relative paths in the metric's options resolve from here.</summary>
    public required string ConfigDirectory { get; init; }
}
