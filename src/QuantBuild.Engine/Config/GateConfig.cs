namespace QuantBuild.Engine.Config;

/// <summary>
/// An accuracy gate. The quantized metric may fall at most <see cref="MaxDrop"/> below fp32 (in the metric's own
/// points, or percent of the fp32 value when <see cref="MaxDropIsRelative"/>), and never under <see cref="Min"/>.
/// For lower-is-better metrics (max_abs_error) "drop" means growth.
/// </summary>
public sealed record GateConfig
{
    /// <summary>The largest allowed drop, or null for no drop limit.</summary>
    public double? MaxDrop { get; init; }

    /// <summary>True when <see cref="MaxDrop"/> was written as a percentage ("1%") of the fp32 value.</summary>
    public bool MaxDropIsRelative { get; init; }

    /// <summary>An absolute floor for the quantized metric, or null.</summary>
    public double? Min { get; init; }

    /// <summary>Where max_drop was written (the root gate's when a target's override keeps it), or null.</summary>
    public SourceLocation? MaxDropLocation { get; init; }

    /// <summary>Where min was written, or null.</summary>
    public SourceLocation? MinLocation { get; init; }

    /// <summary>Where the gate was written (the target's override when it has one), for gate-failure messages.</summary>
    public SourceLocation Location { get; init; }
}
