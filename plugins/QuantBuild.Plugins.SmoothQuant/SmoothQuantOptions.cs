using System.ComponentModel.DataAnnotations;

namespace QuantBuild.Plugins.SmoothQuant;

/// <summary>Options of the <c>smoothquant</c> pass, bound from the recipe step (snake_case keys).</summary>
public sealed class SmoothQuantOptions
{
    /// <summary>
    /// Migration strength: s_j = max|X_j|^alpha / max|W_j|^(1-alpha). 0 moves everything onto the activations'
    /// side, 1 everything onto the weights'. Used as is when <see cref="Search"/> is not given.
    /// </summary>
    [Range(0.0, 1.0)]
    public double Alpha { get; set; } = 0.5;

    /// <summary>When given, alpha is searched on the calibration data instead of fixed.</summary>
    public AlphaSearchOptions? Search { get; set; }

    /// <summary>Op types whose constant weight is smoothed: <c>MatMul</c> (weight [K,N]) and <c>Gemm</c> (transA = 0).</summary>
    public List<string> OpTypes { get; set; } = ["MatMul", "Gemm"];

    /// <summary>Where 1/s goes.</summary>
    public FoldPolicy Fold { get; set; } = FoldPolicy.Auto;

    /// <summary>Skip input channels whose activation abs-max is below this (s_j = 1 there).</summary>
    [Range(0.0, 1e6)]
    public double MinActivation { get; set; } = 1e-5;
}

/// <summary>The alpha search: candidates from <see cref="AlphaMin"/> to <see cref="AlphaMax"/> in <see cref="AlphaStep"/>.</summary>
public sealed class AlphaSearchOptions
{
    /// <summary>Smallest alpha tried.</summary>
    [Range(0.0, 1.0)]
    public double AlphaMin { get; set; }

    /// <summary>Largest alpha tried.</summary>
    [Range(0.0, 1.0)]
    public double AlphaMax { get; set; } = 1.0;

    /// <summary>Step between candidates.</summary>
    [Range(0.001, 1.0)]
    public double AlphaStep { get; set; } = 0.05;

    /// <summary>True: each group of linears (one activation) gets its own alpha; false: one alpha for the model.</summary>
    public bool PerLayer { get; set; }

    /// <summary>Calibration samples whose activations the search reads.</summary>
    [Range(1, 100000)]
    public int Samples { get; set; } = 32;

    /// <summary>At most this many activation rows (tokens) per group enter the error, evenly strided.</summary>
    [Range(16, 1000000)]
    public int MaxRows { get; set; } = 2048;
}

/// <summary>Where the activation's 1/s is applied.</summary>
public enum FoldPolicy
{
    /// <summary>Fold into the producer where possible (LayerNormalization, a decomposed norm's Mul/Add, a preceding MatMul/Gemm, a constant Mul/Add chain); otherwise insert a Mul.</summary>
    Auto,

    /// <summary>Fold only into normalizations (LayerNormalization, a decomposed norm's final Mul/Add); otherwise insert a Mul.</summary>
    NormOnly,

    /// <summary>Fold where <see cref="Auto"/> would; leave activations that cannot be folded unsmoothed.</summary>
    FoldOrSkip,

    /// <summary>Never fold: always insert a Mul by 1/s in front of the linears.</summary>
    InsertMul,
}
