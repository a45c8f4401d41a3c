namespace QuantBuild.Engine.Analysis;

/// <summary>One quantizable layer: its weight and activation statistics and how much accuracy it costs.</summary>
public sealed record LayerAnalysis
{
    /// <summary>The node's name.</summary>
    public required string Node { get; init; }

    /// <summary>The node's op type.</summary>
    public required string OpType { get; init; }

    /// <summary>The weight initializer (or Constant output) name.</summary>
    public required string Weight { get; init; }

    /// <summary>Weight elements.</summary>
    public long WeightElements { get; init; }

    /// <summary>Smallest weight value.</summary>
    public double WeightMin { get; init; }

    /// <summary>Largest weight value.</summary>
    public double WeightMax { get; init; }

    /// <summary>The output channel with the largest outlier ratio.</summary>
    public int WeightWorstChannel { get; init; }

    /// <summary>max|w| / p99.9|w| of the worst output channel.</summary>
    public double WeightWorstRatio { get; init; }

    /// <summary>The median over output channels of max|w| / p99.9|w|.</summary>
    public double WeightMedianRatio { get; init; }

    /// <summary>The layer's input activation.</summary>
    public required string Input { get; init; }

    /// <summary>Smallest input activation value seen in calibration.</summary>
    public double ActivationMin { get; init; }

    /// <summary>Largest input activation value seen in calibration.</summary>
    public double ActivationMax { get; init; }

    /// <summary>max|x| / p99.9|x| of the input activation, from calibration's histogram.</summary>
    public double ActivationRatio { get; init; }

    /// <summary>max|y| / p99.9|y| of the layer's output (before any following Relu).</summary>
    public double OutputRatio { get; init; }

    /// <summary>The model with only this layer quantized (every other quantizable layer excluded).</summary>
    public required TrialResult OnlyQuantized { get; init; }

    /// <summary>The model with every layer quantized but this one.</summary>
    public required TrialResult LeftFp32 { get; init; }

    /// <summary>1 for the layer that costs the most accuracy alone.</summary>
    public int Rank { get; init; }
}
