using QuantBuild.Abstractions.Diagnostics;

namespace QuantBuild.Engine.Analysis;

/// <summary>The kernel check of one target: its timings, and the error when require_speedup fails it.</summary>
/// <param name="Kernels">The timings and unfused layers, or null when the check did not run (another CPU family, or it could not run).</param>
/// <param name="Failure">QB4103 when require_speedup is set and the model is not faster; null otherwise.</param>
public sealed record KernelGateResult(KernelCheckResult? Kernels, QuantBuildException? Failure)
{
    /// <summary>The check did not run; nothing fails.</summary>
    public static KernelGateResult Skipped { get; } = new(null, null);

    /// <summary>True unless require_speedup failed the target.</summary>
    public bool Ok => Failure is null;
}
