namespace QuantBuild.Engine.Calibration;

/// <summary>What calibration saw: one observer per tensor, and how long it took.</summary>
/// <param name="Observers">Observers by tensor name.</param>
/// <param name="Samples">Samples run.</param>
/// <param name="Elapsed">Wall time of the whole stage.</param>
/// <param name="RuntimeTime">Of which ONNX Runtime's forward passes took this long.</param>
/// <param name="BatchSize">Samples per batch (chosen from the memory budget when the request allowed it); 0 when nothing ran.</param>
public sealed record CalibrationResult(IReadOnlyDictionary<string, TensorObserver> Observers, long Samples, TimeSpan Elapsed, TimeSpan RuntimeTime, int BatchSize = 0)
{
    /// <summary>Passes over the data: one per capture group (1 when everything fit one pass; 0 when nothing ran).</summary>
    public int Groups { get; init; }

    /// <summary>Exposed tensors ONNX Runtime handed over in its blocked channel layout (<see cref="CalibrationSession"/>).</summary>
    public int BlockedLayoutTensors { get; init; }

    /// <summary>
    /// Tensors the model computes that calibration could not observe, with the reason (a Loop/Scan body tensor whose
    /// shape changes between iterations, a main-graph tensor empty on every batch); their observers saw nothing.
    /// </summary>
    public IReadOnlyDictionary<string, string> Unobserved { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>The result of calibrating nothing: no tensor needed a range, so no forward pass ran.</summary>
    public static CalibrationResult Empty { get; } = new(new Dictionary<string, TensorObserver>(), 0, TimeSpan.Zero, TimeSpan.Zero);
}
