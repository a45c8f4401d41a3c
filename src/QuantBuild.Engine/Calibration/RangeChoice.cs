using QuantBuild.Engine.Quantization;

namespace QuantBuild.Engine.Calibration;

/// <summary>What <see cref="RangeSelector.Choose"/> picked for one activation and the measurement that decided it.</summary>
/// <param name="Range">The range the grid covers.</param>
/// <param name="Method">Which candidate it is.</param>
/// <param name="Percentile">The percentile, when <paramref name="Method"/> is percentile.</param>
/// <param name="SqnrDb">Signal-to-quantization-noise ratio of the tensor's calibration histogram on that range, dB.</param>
/// <param name="MinMaxSqnrDb">The same on the full (minmax) range, dB.</param>
public sealed record RangeChoice(TensorRange Range, RangeMethod Method, double? Percentile, double SqnrDb, double MinMaxSqnrDb);
