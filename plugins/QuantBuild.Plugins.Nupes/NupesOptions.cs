using System.ComponentModel.DataAnnotations;

namespace QuantBuild.Plugins.Nupes;

/// <summary>What the exponent search minimises.</summary>
public enum NupesMode
{
    /// <summary><c>data_free</c>: the weights' squared reconstruction error; needs no data.</summary>
    DataFree,

    /// <summary><c>data_driven</c>: the layer's output error on real calibration inputs, (W−Ŵ)ᵀH(W−Ŵ) with H = XᵀX.</summary>
    DataDriven,
}

/// <summary>The exponents tried: a coarse grid of <see cref="Steps"/> values from <see cref="Min"/> to <see cref="Max"/>, then two refinements around the best.</summary>
public sealed class ExponentRange
{
    /// <summary><c>min</c>: the smallest exponent a (a &lt; 1 makes the grid dense near zero).</summary>
    [Range(0.05, 4.0)]
    public double Min { get; set; } = 0.25;

    /// <summary><c>max</c>: the largest exponent a (a = 1 is the uniform grid; it is always tried).</summary>
    [Range(0.05, 4.0)]
    public double Max { get; set; } = 1.25;

    /// <summary><c>steps</c>: exponents in the coarse grid.</summary>
    [Range(1, 1000)]
    public int Steps { get; set; } = 21;
}

/// <summary>The options of the <c>nupes</c> pass, bound from its recipe step (snake_case keys).</summary>
public sealed class NupesOptions
{
    /// <summary><c>bits</c>: bits per weight, 2 to 8.</summary>
    [Range(2, 8)]
    public int Bits { get; set; } = 4;

    /// <summary><c>group_size</c>: weights per scale along the input axis; 0 for one scale per output channel.</summary>
    [Range(0, 1 << 20)]
    public int GroupSize { get; set; }

    /// <summary><c>exponent</c>: the search range of the power exponent a, <c>{min, max, steps}</c>.</summary>
    public ExponentRange Exponent { get; set; } = new();

    /// <summary><c>mode</c>: <c>data_free</c> (weight error) or <c>data_driven</c> (output error on calibration inputs).</summary>
    public NupesMode Mode { get; set; } = NupesMode.DataDriven;

    /// <summary>
    /// <c>optimize_codes</c>: after the exponent search, move each integer code to whichever grid value lowers the
    /// objective most (coordinate descent over the whole grid, not only up or down); data-free this is nearest-value.
    /// </summary>
    public bool OptimizeCodes { get; set; } = true;

    /// <summary>
    /// <c>max_weight_mse_ratio</c>: data-driven only, the most weight MSE a layer may have, as a multiple of uniform
    /// round-to-nearest's at the same bits and grouping. The exponent search and the code optimisation lower the
    /// output error only within it (the codes through a ridge on the weight error). Unset, it is
    /// <see cref="DefaultMaxWeightMseRatio"/>: 0.95 from 3 bits up, which keeps every layer measurably closer to its
    /// fp32 weights than uniform, and 1.2 at 2 bits, where the grid is {−s, 0, s} whatever the exponent, so no code
    /// can be nearer the weights than uniform's and the codes need some slack to move at all. 0 lifts the bound (pure
    /// output error, which on the samples costs 1.5–2.4× uniform's weight MSE).
    /// </summary>
    [Range(0.0, 1000.0)]
    public double? MaxWeightMseRatio { get; set; }

    /// <summary>The bound used when <see cref="MaxWeightMseRatio"/> is unset, for <paramref name="bits"/>.</summary>
    public static double DefaultMaxWeightMseRatio(int bits) => bits <= 2 ? 1.2 : 0.95;

    /// <summary>
    /// <c>layers</c>: node names, op types or name patterns (<c>*</c>, <c>?</c>) to code; empty for every Conv, Gemm and
    /// MatMul with a constant 2-D (or conv) weight, initializer or Constant node. <c>Gather</c> (embedding tables, one scale per row, weight error as the objective) is coded only
    /// when named here.
    /// </summary>
    public string[] Layers { get; set; } = [];

    /// <summary><c>exclude</c>: node names, op types or name patterns left in fp32, whatever <see cref="Layers"/> says; an entry that names nothing is QB2102.</summary>
    public string[] Exclude { get; set; } = [];

    /// <summary>
    /// <c>samples</c>: calibration samples whose activations build each layer's H = XᵀX (data-driven). A Gemm/MatMul
    /// with n inputs needs well over n rows for H to be full rank (the CNN's 1600-input Gemm sees one row per sample).
    /// Memory is bounded by <see cref="CaptureBudgetMb"/>, not by this.
    /// </summary>
    [Range(1, 100000)]
    public int Samples { get; set; } = 256;

    /// <summary>
    /// <c>capture_budget_mb</c>: the most memory the captured layer inputs may take at once. Inputs are captured in
    /// groups that fit (one group, one capture, on small models); an input that alone does not fit is captured for as
    /// many samples as do, with a log line.
    /// </summary>
    [Range(1, 1 << 20)]
    public int CaptureBudgetMb { get; set; } = 1024;
}
