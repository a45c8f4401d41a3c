namespace QuantBuild.Engine.Calibration;

/// <summary>What calibration saw: one observer per tensor, and how long it took.</summary>
/// <param name="Observers">Observers by tensor name.</param>
/// <param name="Samples">Samples run.</param>
/// <param name="Elapsed">Wall time of the whole stage.</param>
/// <param name="RuntimeTime">Of which ONNX Runtime's forward passes took this long.</param>
/// <param name="BatchSize">Samples per batch after the first (chosen from the memory budget when the request had one); 0 when nothing ran.</param>
public sealed record CalibrationResult(IReadOnlyDictionary<string, TensorObserver> Observers, long Samples, TimeSpan Elapsed, TimeSpan RuntimeTime, int BatchSize = 0)
{
    /// <summary>The result of calibrating nothing: no tensor needed a range, so no forward pass ran.</summary>
    public static CalibrationResult Empty { get; } = new(new Dictionary<string, TensorObserver>(), 0, TimeSpan.Zero, TimeSpan.Zero);
}
