namespace QuantBuild.Engine.Analysis;

/// <summary>Everything <c>quantbuild analyze</c> found for one target.</summary>
public sealed record TargetAnalysis
{
    /// <summary>The target's name.</summary>
    public required string Target { get; init; }

    /// <summary>Its device profile.</summary>
    public required string Device { get; init; }

    /// <summary>The recipe's weight bits.</summary>
    public int WeightBits { get; init; }

    /// <summary>The metric trials are scored with (the gate's, or output SQNR when the config has no evaluation).</summary>
    public required string Metric { get; init; }

    /// <summary>The metric's unit.</summary>
    public required string Unit { get; init; }

    /// <summary>Samples every trial ran (a bounded subset of the evaluation data).</summary>
    public long TrialSamples { get; init; }

    /// <summary>Samples the evaluation data holds.</summary>
    public long EvaluationSamples { get; init; }

    /// <summary>Samples calibration ran, once for all trials.</summary>
    public long CalibrationSamples { get; init; }

    /// <summary>fp32 on the trial samples.</summary>
    public double Fp32Value { get; init; }

    /// <summary>Every layer quantized, on the trial samples.</summary>
    public required TrialResult AllQuantized { get; init; }

    /// <summary>Quantizable layers, worst first.</summary>
    public required IReadOnlyList<LayerAnalysis> Layers { get; init; }

    /// <summary>The precision ladder, 23 mantissa bits down; empty when not asked for.</summary>
    public IReadOnlyList<LadderPoint> Ladder { get; init; } = Array.Empty<LadderPoint>();

    /// <summary>The kernel check, or null when skipped.</summary>
    public KernelCheckResult? Kernels { get; init; }

    /// <summary>
    /// Every node the model with all layers quantized keeps in fp32, and why (as the run report lists them): a layer
    /// whose input calibration could not observe says why here rather than in <see cref="Layers"/>.
    /// </summary>
    public IReadOnlyList<Results.FloatNode> FloatNodes { get; init; } = Array.Empty<Results.FloatNode>();

    /// <summary>
    /// Tensors calibration could not observe, with the reason (a Loop/Scan body tensor whose shape changes between
    /// iterations, a tensor empty on every batch); the nodes that needed them are among <see cref="FloatNodes"/> with it.
    /// </summary>
    public IReadOnlyDictionary<string, string> Unobserved { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Things the reader must know about how the numbers were made.</summary>
    public IReadOnlyList<string> Notes { get; init; } = Array.Empty<string>();

    /// <summary>Encode-and-evaluate trials run.</summary>
    public int Trials { get; init; }

    /// <summary>Wall time for this target.</summary>
    public double Seconds { get; init; }
}
