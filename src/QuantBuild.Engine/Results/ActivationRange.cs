namespace QuantBuild.Engine.Results;

/// <summary>What <c>calibration.method: auto</c> chose for one activation, and the measurement that decided it.</summary>
/// <param name="Tensor">The activation.</param>
/// <param name="Method">minmax, percentile or mse.</param>
/// <param name="Percentile">The clip point when <paramref name="Method"/> is percentile, else null.</param>
/// <param name="Min">Lower end of the range.</param>
/// <param name="Max">Upper end of the range.</param>
/// <param name="SqnrDb">SQNR of the tensor's calibration histogram on this range (dB; null when exact, e.g. a constant tensor).</param>
/// <param name="MinMaxSqnrDb">The same on the full (minmax) range.</param>
public sealed record ActivationRange(string Tensor, string Method, double? Percentile, float Min, float Max, double? SqnrDb, double? MinMaxSqnrDb);
