using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Engine.Sessions;

namespace QuantBuild.Engine.Pipeline;

/// <summary>How one run is asked for: which targets, where to write, who listens.</summary>
public sealed record PipelineOptions
{
    /// <summary>Only these targets (by name); empty for all.</summary>
    public IReadOnlyCollection<string> Targets { get; init; } = Array.Empty<string>();

    /// <summary>Overrides the yaml's output folder.</summary>
    public string? OutputDirectory { get; init; }

    /// <summary>Progress of long stages.</summary>
    public IProgress<StageProgress>? Progress { get; init; }

    /// <summary>Samples the per-layer error chart uses.</summary>
    public int LayerProbeSamples { get; init; } = 64;

    /// <summary>The result cache targets are looked up in and stored to; null to always quantize.</summary>
    public Cache.ResultCache? Cache { get; init; }

    /// <summary>False to ignore cached results (force) while still storing fresh ones.</summary>
    public bool ReadCache { get; init; } = true;

    /// <summary>Memory the run may use; batch sizes not fixed by the yaml are derived from it. Null: <see cref="MemoryBudget.Default"/>.</summary>
    public MemoryBudget? MemoryBudget { get; init; }

    /// <summary>
    /// At most this many targets quantize at once (1: one after another); null for as many as the memory budget fits, up
    /// to the processor count (see <see cref="TargetParallelism"/>). The output is the same bytes either way.
    /// </summary>
    public int? MaxParallelTargets { get; init; }

    /// <summary>Write the Markdown and HTML reports.</summary>
    public bool WriteReports { get; init; } = true;
}
