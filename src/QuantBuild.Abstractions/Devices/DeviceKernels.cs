using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.Abstractions.Devices;

/// <summary>What a device's integer kernels run: the formats a pass must quantize to for the model to run fast there.</summary>
public sealed record DeviceKernels
{
    /// <summary>Activation storage type: <see cref="ElementType.UInt8"/> or <see cref="ElementType.Int8"/>.</summary>
    public required ElementType ActivationType { get; init; }

    /// <summary>True when activations must be symmetric (zero point 0).</summary>
    public required bool SymmetricActivations { get; init; }

    /// <summary>True when weight scales may differ per output channel.</summary>
    public required bool PerChannelWeights { get; init; }

    /// <summary>
    /// True when 8-bit weights must use only 7 bits. x64 CPUs without VNNI accumulate u8·s8 pairs in saturating
    /// 16-bit lanes (vpmaddubsw); halving the weight range keeps those sums from saturating.
    /// </summary>
    public required bool ReduceRange { get; init; }

    /// <summary>Weight bit widths these kernels (or decode subgraphs) run.</summary>
    public required IReadOnlyList<int> WeightBits { get; init; }

    /// <summary>Ops executed with integer kernels when their inputs are quantized.</summary>
    public required IReadOnlySet<string> IntegerOps { get; init; }

    /// <summary>Lowest default-domain opset the encoded model may declare.</summary>
    public int MinimumOpset { get; init; } = 13;
}
