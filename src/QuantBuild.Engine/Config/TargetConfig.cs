using QuantBuild.Abstractions.Devices;

namespace QuantBuild.Engine.Config;

/// <summary>One entry of <c>targets</c>: a device, the recipe for it and where its model goes.</summary>
public sealed record TargetConfig
{
    /// <summary>The target's name (its key under <c>targets</c>).</summary>
    public required string Name { get; init; }

    /// <summary>The device profile the target is quantized for.</summary>
    public required DeviceProfile Device { get; init; }

    /// <summary>The passes run before encoding, in order; empty for plain round-to-nearest.</summary>
    public required IReadOnlyList<RecipePass> Recipe { get; init; }

    /// <summary>The weight format.</summary>
    public required WeightFormat Weights { get; init; }

    /// <summary>Static or run-time (dynamic) activation quantization of MatMul/Gemm layers.</summary>
    public ActivationsConfig Activations { get; init; } = ActivationsConfig.Static;

    /// <summary>What stays fp32.</summary>
    public required ExcludeConfig Exclude { get; init; }

    /// <summary>The gate for this target (its override merged over the top-level gate), or null for none.</summary>
    public GateConfig? Gate { get; init; }

    /// <summary>Absolute path of the model this target writes (default <c>model.&lt;target&gt;.onnx</c> in the output folder).</summary>
    public required string OutputPath { get; init; }

    /// <summary><c>fallback: auto</c> with its budget and size target, or null when the gate alone decides.</summary>
    public FallbackConfig? Fallback { get; init; }

    /// <summary>Fail the target (rather than warn) when the quantized model is not faster than fp32 on this machine.</summary>
    public bool RequireSpeedup { get; init; }

    /// <summary>Where the target's name was written.</summary>
    public SourceLocation Location { get; init; }
}
