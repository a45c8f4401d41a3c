using QuantBuild.Abstractions.Data;
using QuantBuild.Abstractions.Diagnostics;
using Serilog;

namespace QuantBuild.Engine.Plugins;

/// <summary>What the pipeline lends a target's passes: the calibration data and how to batch it, the log, progress, cancellation.</summary>
public sealed record PassEnvironment
{
    /// <summary>The calibration samples statistics and activations come from.</summary>
    public required IDataSource Calibration { get; init; }

    /// <summary>Samples per batch when the model's batch dimension is free.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>At most this many calibration samples for statistics; null for all.</summary>
    public long? MaxSamples { get; init; }

    /// <summary>The run's log.</summary>
    public ILogger Log { get; init; } = Serilog.Core.Logger.None;

    /// <summary>Progress of long stages, or null.</summary>
    public IProgress<StageProgress>? Progress { get; init; }

    /// <summary>The run's cancellation.</summary>
    public CancellationToken Cancellation { get; init; }
}
