using QuantBuild.Engine.Quantization;

namespace QuantBuild.Engine.Config;

/// <summary>A target's <c>activations</c>: static ranges, run-time quantization, or static with some layers dynamic.</summary>
public sealed record ActivationsConfig
{
    /// <summary>Every layer static (the default).</summary>
    public static readonly ActivationsConfig Static = new();

    /// <summary>The mode of every MatMul/Gemm layer with a constant weight.</summary>
    public ActivationMode Mode { get; init; } = ActivationMode.Static;

    /// <summary>Node names quantized dynamically although <see cref="Mode"/> is static (<c>activations.dynamic</c>).</summary>
    public IReadOnlyList<string> DynamicNodes { get; init; } = Array.Empty<string>();

    /// <summary>Where the section was written, or default when absent.</summary>
    public SourceLocation Location { get; init; }
}
