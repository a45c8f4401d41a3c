namespace QuantBuild.Engine.Config;

/// <summary>
/// A target's <c>fallback: auto</c> with its <c>budget</c> and optional <c>size</c> target: when the gate fails, keep the
/// most sensitive layers in higher precision until it passes, then give back the ones not needed; with a size target,
/// choose per-layer bit widths that fit it at the least metric loss.
/// </summary>
public sealed record FallbackConfig
{
    /// <summary>At most this many encode-and-evaluate trials (default 40).</summary>
    public int MaxTrials { get; init; } = 40;

    /// <summary>At most this many seconds of search (default 600).</summary>
    public double MaxSeconds { get; init; } = 600;

    /// <summary>The largest average bits per quantizable weight (4, 8 or 32 per layer, by element count), or null.</summary>
    public double? MaxBitsPerWeight { get; init; }

    /// <summary>The largest serialized model in bytes, or null.</summary>
    public long? MaxBytes { get; init; }

    /// <summary>Where <c>fallback</c> was written.</summary>
    public SourceLocation Location { get; init; }
}
