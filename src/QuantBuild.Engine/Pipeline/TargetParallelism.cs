namespace QuantBuild.Engine.Pipeline;

/// <summary>
/// How many targets one run quantizes at once, and each one's share of the memory budget. The fp32 weights are mapped
/// once and shared by every target; each running target is estimated to peak at one more model size (its encoded copy
/// and the sessions that score it) plus <see cref="MinActivationBytes"/> of activations. So
/// <c>fit = (budget − model) / (model + 256 MB)</c>, at least 1 and at most the number of targets selected, and each target's
/// share is <c>model + (budget − model) / fit</c>: batch sizes derive from the share, never from how many targets happen
/// to run together, so a parallel run writes the same bytes as a sequential one. Concurrency is
/// <c>min(fit, --parallel or the processor count)</c>.
/// </summary>
/// <param name="Concurrency">Targets that run at the same time.</param>
/// <param name="ShareBytes">Each target's memory budget.</param>
internal sealed record TargetParallelism(int Concurrency, long ShareBytes)
{
    /// <summary>The least activation memory a running target is counted with.</summary>
    public const long MinActivationBytes = 256L << 20;

    /// <param name="budgetBytes">The run's memory budget.</param>
    /// <param name="modelBytes">The fp32 model's bytes (external data included).</param>
    /// <param name="targets">Targets the run selected (cached ones included, so no target's share depends on which others hit).</param>
    /// <param name="requested">--parallel: at most this many at once (1 runs them one after another); null for the processor count.</param>
    public static TargetParallelism For(long budgetBytes, long modelBytes, int targets, int? requested)
    {
        long spare = Math.Max(0, budgetBytes - modelBytes);
        int fit = (int)Math.Clamp(spare / (modelBytes + MinActivationBytes), 1, Math.Max(1, targets));
        int concurrency = Math.Min(fit, Math.Max(1, requested ?? Environment.ProcessorCount));
        return new TargetParallelism(concurrency, modelBytes + (spare / fit));
    }
}
