using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.Abstractions.Quantization;

/// <summary>
/// How one constant weight is quantized. A pass that chose the integer values itself (AdaRound, NUPES, GPTQ)
/// sets <see cref="Codes"/>; otherwise the encoder rounds to nearest with <see cref="Scales"/>.
/// </summary>
public sealed record WeightEncoding
{
    /// <summary>Bits per weight (2 to 8).</summary>
    public required int Bits { get; init; }

    /// <summary>Storage type of the integer weights (Int8, UInt8, Int4, UInt4).</summary>
    public required ElementType Type { get; init; }

    /// <summary>Axis of per-channel (or per-block) scales, or null for one scale for the whole tensor.</summary>
    public int? Axis { get; init; }

    /// <summary>Block size along <see cref="Axis"/> for blocked scales, or null for per-channel.</summary>
    public int? BlockSize { get; init; }

    /// <summary>The scales: one, one per channel, or one per block, in ONNX DequantizeLinear layout.</summary>
    public required float[] Scales { get; init; }

    /// <summary>Zero points matching <see cref="Scales"/>, or null for all zero (symmetric).</summary>
    public int[]? ZeroPoints { get; init; }

    /// <summary>The integer value of every element, row-major, when a pass chose them; null to round to nearest.</summary>
    public int[]? Codes { get; init; }

    /// <summary>Which pass produced this encoding, for the report.</summary>
    public string? Origin { get; init; }
}
