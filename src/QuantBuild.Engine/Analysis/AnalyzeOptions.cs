using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Engine.Sessions;

namespace QuantBuild.Engine.Analysis;

/// <summary>What <c>quantbuild analyze</c> runs and how much it may spend.</summary>
public sealed record AnalyzeOptions
{
    /// <summary>Targets to analyse; empty for all.</summary>
    public IReadOnlyCollection<string> Targets { get; init; } = Array.Empty<string>();

    /// <summary>Evaluation samples each trial runs (the first ones of the evaluation data).</summary>
    public int Samples { get; init; } = 500;

    /// <summary>Run the precision ladder.</summary>
    public bool Ladder { get; init; } = true;

    /// <summary>Run the kernel check.</summary>
    public bool KernelCheck { get; init; } = true;

    /// <summary>Timed batches per model in the kernel check.</summary>
    public int KernelBatches { get; init; } = 20;

    /// <summary>Where the report goes instead of the yaml's output folder.</summary>
    public string? OutputDirectory { get; init; }

    /// <summary>Write quantbuild-analysis.md and .html.</summary>
    public bool WriteReport { get; init; } = true;

    /// <summary>Memory the analysis may use; the calibration batch size (unless the yaml sets one) is derived from it. Null: <see cref="MemoryBudget.Default"/>.</summary>
    public MemoryBudget? MemoryBudget { get; init; }

    /// <summary>Progress per trial.</summary>
    public IProgress<StageProgress>? Progress { get; init; }
}
