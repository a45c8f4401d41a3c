namespace QuantBuild.Engine.Quantization;

/// <summary>The real-valued range an activation's quantization grid must cover, as calibration chose it.</summary>
/// <param name="Min">Lowest value to represent.</param>
/// <param name="Max">Highest value to represent.</param>
public sealed record TensorRange(float Min, float Max)
{
    /// <summary>The range widened to include 0, as integer grids must represent 0 exactly.</summary>
    public TensorRange IncludingZero() => new(Math.Min(Min, 0f), Math.Max(Max, 0f));
}
