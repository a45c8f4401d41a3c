namespace QuantBuild.Engine.Config;

/// <summary>A target's weight format (<c>weights</c>), already checked against the device profile.</summary>
public sealed record WeightFormat
{
    /// <summary>Bits per weight (default 8).</summary>
    public int Bits { get; init; } = 8;

    /// <summary>Scale granularity (default per-channel where the profile has it, else per-tensor).</summary>
    public WeightGranularity Granularity { get; init; } = WeightGranularity.PerChannel;

    /// <summary>Block size for <see cref="WeightGranularity.Block"/>, otherwise null.</summary>
    public int? BlockSize { get; init; }

    /// <summary>Where the section was written, or default when the format is the default.</summary>
    public SourceLocation Location { get; init; }
}
