using QuantBuild.Abstractions.Devices;
using QuantBuild.Engine.Quantization;

namespace QuantBuild.Engine.Config;

/// <summary>A target's weight format (<c>weights</c>), already checked against the device profile.</summary>
public sealed record WeightFormat
{
    /// <summary>The 4-bit format written when the yaml names none: the one ONNX Runtime runs fastest.</summary>
    public const FourBitFormat DefaultFormat = FourBitFormat.MatMulNBits;

    /// <summary>The accuracy level when the yaml names none: ORT's own default for the kernels it fuses (int8 activations).</summary>
    public const int DefaultAccuracyLevel = 4;

    /// <summary>
    /// The session config entry through which ORT's fusion of a blocked DequantizeLinear → MatMul into MatMulNBits
    /// takes its accuracy level; the written MatMulNBits format carries the level in the node instead.
    /// </summary>
    public const string QdqAccuracyLevelKey = "session.qdq_matmulnbits_accuracy_level";

    /// <summary>Bits per weight (default 8).</summary>
    public int Bits { get; init; } = 8;

    /// <summary>Scale granularity (default per-channel where the profile has it, else per-tensor).</summary>
    public WeightGranularity Granularity { get; init; } = WeightGranularity.PerChannel;

    /// <summary>Block size for <see cref="WeightGranularity.Block"/> or 4-bit weights, null for the default (32).</summary>
    public int? BlockSize { get; init; }

    /// <summary>How 4-bit MatMul weights are written (<c>format</c>); read only when <see cref="Bits"/> is 4.</summary>
    public FourBitFormat Format { get; init; } = DefaultFormat;

    /// <summary>4-bit blocks with a zero point each (<c>zero_point: true</c>); read only when <see cref="Bits"/> is 4.</summary>
    public bool ZeroPoint { get; init; }

    /// <summary>MatMulNBits' accuracy level, 0–4 (<c>accuracy_level</c>); read only when <see cref="Bits"/> is 4.</summary>
    public int AccuracyLevel { get; init; } = DefaultAccuracyLevel;

    /// <summary>Where the section was written, or default when the format is the default.</summary>
    public SourceLocation Location { get; init; }

    /// <summary>
    /// <paramref name="device"/> with the session settings this format changes numbers through: a blocked
    /// DequantizeLinear model deploys with its accuracy level as ORT session config, so every session the run opens
    /// for the target (gate, fallback trials, kernel check) and the manifest carry it.
    /// </summary>
    public DeviceProfile DeployedOn(DeviceProfile device)
    {
        if (Bits != 4 || Format != FourBitFormat.BlockedDequantize)
        {
            return device;
        }

        var config = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach ((string key, string value) in device.Deployment.SessionConfig)
        {
            config[key] = value;
        }

        config[QdqAccuracyLevelKey] = AccuracyLevel.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return device with { Deployment = device.Deployment with { SessionConfig = config } };
    }
}
