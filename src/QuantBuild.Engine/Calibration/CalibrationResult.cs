namespace QuantBuild.Engine.Calibration;

/// <summary>What calibration saw: one observer per tensor, and how long it took.</summary>
/// <param name="Observers">Observers by tensor name.</param>
/// <param name="Samples">Samples run.</param>
/// <param name="Elapsed">Wall time of the whole stage.</param>
/// <param name="RuntimeTime">Of which ONNX Runtime's forward passes took this long.</param>
public sealed record CalibrationResult(IReadOnlyDictionary<string, TensorObserver> Observers, long Samples, TimeSpan Elapsed, TimeSpan RuntimeTime);
