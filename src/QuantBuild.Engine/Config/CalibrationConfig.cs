namespace QuantBuild.Engine.Config;

/// <summary>The <c>calibration</c> section.</summary>
public sealed record CalibrationConfig
{
    /// <summary>Where the calibration inputs come from.</summary>
    public required DataSourceConfig Data { get; init; }

    /// <summary>Range method (default <see cref="CalibrationMethod.Auto"/>: measured per tensor).</summary>
    public CalibrationMethod Method { get; init; } = CalibrationMethod.Auto;

    /// <summary>The percentile for <see cref="CalibrationMethod.Percentile"/> (default 99.99), otherwise null.</summary>
    public double? Percentile { get; init; }

    /// <summary>
    /// <c>histogram: exact</c>: every histogram counts every value. False (<c>sampled</c>, the default): each counts
    /// every value up to 2 × 2^24, then a deterministic sample of each batch (<see cref="Calibration.StreamingHistogram.ExactValues"/>).
    /// </summary>
    public bool ExactHistogram { get; init; }

    /// <summary>The yaml's name for <see cref="ExactHistogram"/>: <c>exact</c> or <c>sampled</c>.</summary>
    public string Histogram => ExactHistogram ? "exact" : "sampled";

    /// <summary>At most this many samples are used, or null for all.</summary>
    public int? Samples { get; init; }

    /// <summary>Samples per forward pass (default 32; the model's fixed batch dimension wins when it has one).</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>True when the yaml set batch_size: it is then used as given, not derived from the memory budget.</summary>
    public bool BatchSizeGiven { get; init; }

    /// <summary>Where the section starts.</summary>
    public SourceLocation Location { get; init; }
}
