namespace QuantBuild.Engine.Calibration;

/// <summary>How calibration turns an activation's observed values into the range its grid covers.</summary>
public enum RangeMethod
{
    /// <summary>The observed minimum and maximum: nothing clipped, coarsest steps.</summary>
    MinMax,

    /// <summary>Clip both tails at a percentile of the observed values.</summary>
    Percentile,

    /// <summary>The clipping threshold whose quantized distribution is closest (KL divergence) to the observed one.</summary>
    Entropy,

    /// <summary>The clipping range with the least expected squared quantization error.</summary>
    Mse,

    /// <summary>Per tensor, the full range or a percentile clip, whichever has the least squared error on the tensor's own histogram (minmax unless clipping measurably helps).</summary>
    Auto,
}
