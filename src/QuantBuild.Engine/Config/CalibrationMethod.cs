namespace QuantBuild.Engine.Config;

/// <summary>How activation ranges are chosen from calibration statistics (yaml: <c>calibration.method</c>).</summary>
public enum CalibrationMethod
{
    /// <summary><c>minmax</c>: the observed minimum and maximum.</summary>
    MinMax,

    /// <summary><c>percentile</c>: clip at a percentile of |x| (<c>calibration.percentile</c>).</summary>
    Percentile,

    /// <summary><c>entropy</c>: the range minimising KL divergence between the fp32 and quantized histograms.</summary>
    Entropy,

    /// <summary><c>mse</c>: the range minimising mean squared quantization error.</summary>
    Mse,

    /// <summary>
    /// <c>auto</c> (the default): per activation, the range among minmax and percentile (99.9/99.99/99.999) whose
    /// quantization error on the tensor's own calibration histogram is least; minmax unless clipping cuts the error by
    /// at least a fifth.
    /// </summary>
    Auto,
}
