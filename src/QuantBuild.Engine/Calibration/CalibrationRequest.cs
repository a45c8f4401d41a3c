namespace QuantBuild.Engine.Calibration;

/// <summary>What one calibration pass observes and how it batches.</summary>
public sealed record CalibrationRequest
{
    /// <summary>The float tensors to observe (activation names from the encoder's plan or a pass's needs).</summary>
    public required IReadOnlyList<string> Tensors { get; init; }

    /// <summary>Tensors that also need per-channel abs-max, with the channel axis (negative counts from the end).</summary>
    public IReadOnlyDictionary<string, int> ChannelAxes { get; init; } = new Dictionary<string, int>();

    /// <summary>Samples per batch when the model's batch dimension is free.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>
    /// Bytes one batch's activations may take; null to use <see cref="BatchSize"/> as given. With a budget, the first
    /// sample runs alone, its observed activations are measured, and later batches hold as many samples as fit
    /// (at most <see cref="BatchSize"/>).
    /// </summary>
    public long? ActivationBudgetBytes { get; init; }

    /// <summary>At most this many samples; null for all.</summary>
    public long? MaxSamples { get; init; }

    /// <summary>Histogram bins per tensor; 0 keeps min/max (and channel abs-max) only, which is all <c>method: minmax</c> reads.</summary>
    public int Bins { get; init; } = DefaultBins;

    /// <summary>The histogram bins a request keeps unless told otherwise.</summary>
    public const int DefaultBins = 2048;
}
