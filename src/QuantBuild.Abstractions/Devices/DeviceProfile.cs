using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.Abstractions.Devices;

/// <summary>
/// What a deployment target can run: the integer formats its kernels take, which ops it keeps in integer,
/// the ONNX Runtime session settings it deploys with, and the .NET runtime identifiers it serves. A recipe
/// that asks for anything outside this is a config error, never a surprise on the device.
/// </summary>
public sealed record DeviceProfile
{
    /// <summary>The profile's name as written in quantize.yaml, for example <c>cpu-x64-vnni</c>.</summary>
    public required string Name { get; init; }

    /// <summary>One line for people.</summary>
    public required string Description { get; init; }

    /// <summary>.NET runtime identifiers this profile serves (a publish for one of them picks this profile).</summary>
    public required IReadOnlyList<string> RuntimeIdentifiers { get; init; }

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

    /// <summary>Weight bit widths this profile's kernels (or decode subgraphs) run.</summary>
    public required IReadOnlyList<int> WeightBits { get; init; }

    /// <summary>Ops this profile executes with integer kernels when their inputs are quantized.</summary>
    public required IReadOnlySet<string> IntegerOps { get; init; }

    /// <summary>ONNX Runtime session config entries the device deploys with; the gate runs with exactly these.</summary>
    public required IReadOnlyDictionary<string, string> SessionConfig { get; init; }

    /// <summary>Lowest default-domain opset the encoded model may declare.</summary>
    public int MinimumOpset { get; init; } = 13;
}
