using QuantBuild.Engine.Analysis;
using QuantBuild.Engine.Evaluation;
using QuantBuild.Engine.Fallback;

namespace QuantBuild.Engine.Results;

/// <summary>What a target's stages measured about the model it writes, gathered for <see cref="TargetResult"/>'s factories.</summary>
public sealed record TargetMeasurements
{
    /// <summary>Bytes of the quantized model as written (with its external data).</summary>
    public long? QuantizedBytes { get; init; }

    /// <summary>Quantized node count.</summary>
    public int QuantizedNodeCount { get; init; }

    /// <summary>Every node left in fp32, with why.</summary>
    public IReadOnlyList<FloatNode> FloatNodes { get; init; } = Array.Empty<FloatNode>();

    /// <summary>Layers whose kernel quantizes its input at run time (DynamicQuantizeMatMul/LSTM), in graph order.</summary>
    public IReadOnlyList<string> DynamicLayers { get; init; } = Array.Empty<string>();

    /// <summary>What <c>calibration.method: auto</c> chose per activation, by tensor name; empty with any other method.</summary>
    public IReadOnlyList<ActivationRange> ActivationRanges { get; init; } = Array.Empty<ActivationRange>();

    /// <summary>The gate's score, or null when the config has no evaluation.</summary>
    public ModelScore? Score { get; init; }

    /// <summary>Quantized layers with their output error, worst first.</summary>
    public IReadOnlyList<LayerError> Layers { get; init; } = Array.Empty<LayerError>();

    /// <summary>What fallback: auto did, or null.</summary>
    public FallbackReport? Fallback { get; init; }

    /// <summary>The kernel check, or null.</summary>
    public KernelCheckResult? Kernels { get; init; }
}
