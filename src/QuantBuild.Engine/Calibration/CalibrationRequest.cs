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
    /// Bytes the observed activations of one pass may take (counted <see cref="CaptureGroups.Copies"/> times); null for
    /// no limit: one pass exposing every tensor at <see cref="BatchSize"/>. With a budget, one sample measures every
    /// tensor, and the tensors are observed in as many <see cref="CaptureGroups"/> (passes over the same batches) as
    /// the budget needs; ranges are identical either way.
    /// </summary>
    public long? ActivationBudgetBytes { get; init; }

    /// <summary>
    /// With a budget, choose the batch size from it (at most <see cref="BatchSize"/>); false when the user fixed the
    /// batch size, which is then kept and only the groups adapt.
    /// </summary>
    public bool BatchSizeFromBudget { get; init; } = true;

    /// <summary>At most this many samples; null for all.</summary>
    public long? MaxSamples { get; init; }

    /// <summary>Histogram bins per tensor; 0 keeps min/max (and channel abs-max) only, which is all <c>method: minmax</c> reads.</summary>
    public int Bins { get; init; } = DefaultBins;

    /// <summary>
    /// Values each histogram counts one by one before it samples its batches (<see cref="StreamingHistogram.ExactValues"/>);
    /// <see cref="long.MaxValue"/> counts every value (<c>histogram: exact</c>).
    /// </summary>
    public long ExactHistogramValues { get; init; } = StreamingHistogram.DefaultExactValues;

    /// <summary>The <see cref="ExactHistogramValues"/> of <c>histogram: exact</c> (<paramref name="exact"/>) or <c>sampled</c>.</summary>
    public static long HistogramValues(bool exact) => exact ? long.MaxValue : StreamingHistogram.DefaultExactValues;

    /// <summary>
    /// Take tensors ORT computes in its blocked channel layout in that layout (<see cref="CalibrationSession"/>): the
    /// same values in another order, without ORT reordering each for being a graph output. Per-tensor statistics are
    /// identical either way; only a sampled histogram (past <see cref="ExactHistogramValues"/>) keeps other values.
    /// </summary>
    internal bool BlockedLayout { get; init; } = true;

    /// <summary>
    /// Values the calibration's samples must expose in all before the blocked-layout session is opened
    /// (<see cref="CalibrationSession.MinimumValues"/>); tests lower it to take small data in the blocked layout.
    /// </summary>
    internal long BlockedLayoutMinimumValues { get; init; } = CalibrationSession.MinimumValues;

    /// <summary>Channel counts taken in the blocked layout are a multiple of this; tests lower it to make ORT pad a block.</summary>
    internal int BlockedChannelMultiple { get; init; } = CalibrationSession.ChannelMultiple;

    /// <summary>The histogram bins a request keeps unless told otherwise.</summary>
    public const int DefaultBins = 2048;
}
