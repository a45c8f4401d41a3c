using System.ComponentModel.DataAnnotations;

namespace QuantBuild.Plugins.AdaQuant;

/// <summary>What is optimised per layer.</summary>
public enum AdaQuantMode
{
    /// <summary><c>adaround</c>: each weight is rounded up or down (soft rounding, annealed regulariser, then hard); the scale stays fixed.</summary>
    Adaround,

    /// <summary><c>adaquant</c>: the weights' values (codes anywhere in the grid) and the scales are learned directly (straight-through).</summary>
    Adaquant,

    /// <summary><c>nearest</c>: plain round-to-nearest with abs-max scales at the chosen bits (the baseline; no optimisation).</summary>
    Nearest,
}

/// <summary>How the codes of <c>adaround</c> and <c>adaquant</c> are found.</summary>
public enum AdaQuantSolver
{
    /// <summary><c>auto</c>: <c>gradient</c> when the layer's iterations fit (see <see cref="AdaQuantOptions.Solver"/>), else <c>gptq</c>.</summary>
    Auto,

    /// <summary><c>gradient</c>: the mode's full-batch Adam iterations (AdaRound's soft rounding, AdaQuant's straight-through codes and scales).</summary>
    Gradient,

    /// <summary><c>gptq</c>: one pass over the inputs with error feedback through the Cholesky factor of H (GPTQ, Frantar et al. 2023); scales from the start (clipping search).</summary>
    Gptq,
}

/// <summary>Where the scales sit.</summary>
public enum AdaQuantGranularity
{
    /// <summary><c>per_channel</c>: one scale per output channel (int8 storage, integer kernels).</summary>
    PerChannel,

    /// <summary><c>per_group</c>: one scale per <c>group_size</c> weights along the input axis (MatMul and Gemm; 4-bit blocked storage).</summary>
    PerGroup,
}

/// <summary>The options of the <c>adaquant</c> pass, bound from its recipe step (snake_case keys).</summary>
public sealed class AdaQuantOptions
{
    /// <summary><c>mode</c>: <c>adaround</c> (default), <c>adaquant</c> or <c>nearest</c>.</summary>
    public AdaQuantMode Mode { get; set; } = AdaQuantMode.Adaround;

    /// <summary>
    /// <c>solver</c>: <c>auto</c> (default), <c>gradient</c> or <c>gptq</c>. auto takes gptq for a layer when the gradient
    /// solver's work, out × min(in², 2·N·in) × (iterations + 12) multiply-adds, exceeds 2^38 (about a minute on two
    /// cores), or, with <see cref="TimeBudgetSeconds"/>, what the layer's share of the budget allows at 5·10⁹ a second.
    /// </summary>
    public AdaQuantSolver Solver { get; set; } = AdaQuantSolver.Auto;

    /// <summary><c>act_order</c>: gptq quantizes the inputs in order of decreasing H_jj (the busiest first), so the later ones absorb their error.</summary>
    public bool ActOrder { get; set; } = true;

    /// <summary><c>damping</c>: gptq adds this fraction of H's mean diagonal to its diagonal before the Cholesky factor (raised ×10 up to three times if that fails).</summary>
    [Range(1e-6, 10.0)]
    public double Damping { get; set; } = 0.01;

    /// <summary><c>iterations</c>: full-batch optimisation steps per layer.</summary>
    [Range(0, 100000)]
    public int Iterations { get; set; } = 1000;

    /// <summary><c>learning_rate</c>: Adam's step size (on the rounding variables V for adaround, on codes for adaquant).</summary>
    [Range(1e-6, 10.0)]
    public double LearningRate { get; set; } = 0.01;

    /// <summary><c>bits</c>: bits per weight, 2 to 8; absent: the target's <c>weights.bits</c>.</summary>
    [Range(2, 8)]
    public int? Bits { get; set; }

    /// <summary><c>granularity</c>: <c>per_channel</c> or <c>per_group</c>; absent: per-group when the target's weights are blocked, else per-channel.</summary>
    public AdaQuantGranularity? Granularity { get; set; }

    /// <summary><c>group_size</c>: weights per scale for per-group; absent: the target's block size, else 32.</summary>
    [Range(2, 1 << 20)]
    public int? GroupSize { get; set; }

    /// <summary>
    /// <c>sequential</c>: optimise layer by layer on the inputs the already-quantized earlier layers produce (target: the
    /// fp32 layer's output on fp32 inputs), as AdaQuant does; false: every layer on fp32 inputs.
    /// </summary>
    public bool Sequential { get; set; }

    /// <summary><c>samples</c>: calibration samples whose activations build each layer's H.</summary>
    [Range(1, 1000000)]
    public int Samples { get; set; } = 256;

    /// <summary><c>bias_correction</c>: fold the mean output error into the layer's bias (Conv and Gemm), and optimise the rest.</summary>
    public bool BiasCorrection { get; set; } = true;

    /// <summary><c>regularization</c>: weight of AdaRound's rounding regulariser Σ 1−|2h−1|^β.</summary>
    [Range(0.0, 100.0)]
    public double Regularization { get; set; } = 0.01;

    /// <summary><c>warmup</c>: fraction of the iterations without the regulariser (AdaRound).</summary>
    [Range(0.0, 0.9)]
    public double Warmup { get; set; } = 0.2;

    /// <summary><c>scale_search</c>: pick each channel's clipping (abs-max × 0.5…1) that minimises the output error before optimising.</summary>
    public bool ScaleSearch { get; set; } = true;

    /// <summary><c>time_budget_seconds</c>: stop optimising when the pass has run this long and keep the best found so far; 0 for none.</summary>
    [Range(0.0, 1e7)]
    public double TimeBudgetSeconds { get; set; }

    /// <summary>
    /// <c>layers</c>: node names, op types or name patterns (<c>*</c>, <c>?</c>) to optimise; empty for every Conv, Gemm
    /// and MatMul with a constant float weight (an initializer or a Constant node). An entry that names nothing is QB2302.
    /// </summary>
    public string[] Layers { get; set; } = [];

    /// <summary><c>exclude</c>: node names, op types or name patterns left to the encoder, whatever <see cref="Layers"/> says; an entry that names nothing is QB2302.</summary>
    public string[] Exclude { get; set; } = [];
}
