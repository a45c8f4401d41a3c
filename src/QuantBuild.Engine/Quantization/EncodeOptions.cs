using QuantBuild.Abstractions.Devices;
using QuantBuild.Abstractions.Quantization;
using QuantBuild.Engine.Quantization.Operators;

namespace QuantBuild.Engine.Quantization;

/// <summary>What <see cref="QdqEncoder"/> may quantize and how.</summary>
public sealed record EncodeOptions
{
    /// <summary>The device the model is encoded for: activation type, symmetry, reduce-range, integer ops.</summary>
    public required DeviceProfile Profile { get; init; }

    /// <summary>Node names that stay fp32 (from the yaml's exclude list).</summary>
    public IReadOnlySet<string> ExcludedNodeNames { get; init; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>Op types that stay fp32 (from the yaml's exclude list).</summary>
    public IReadOnlySet<string> ExcludedOpTypes { get; init; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>
    /// Encodings chosen by earlier passes, by weight initializer (or Constant output) name. Their scales, zero points
    /// and codes are used verbatim instead of round-to-nearest.
    /// </summary>
    public IReadOnlyDictionary<string, WeightEncoding> WeightOverrides { get; init; } = new Dictionary<string, WeightEncoding>(StringComparer.Ordinal);

    /// <summary>Nodes recipe passes keep in float (<c>IPassContext.KeepInFloat</c>), by node name, with the reason the report shows.</summary>
    public IReadOnlyDictionary<string, string> KeptInFloat { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>
    /// Tensors calibration ran but could not observe, by name, with the reason (a tensor empty on every batch, a Loop/Scan body tensor whose shape
    /// changes between iterations): a node that needs a range of one of them stays fp32 with that reason.
    /// </summary>
    public IReadOnlyDictionary<string, string> Unobserved { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>
    /// Activation ranges recipe passes set (<c>IPassContext.SetActivationRange</c>), by tensor name; they replace the
    /// calibrated range of the same tensor.
    /// </summary>
    public IReadOnlyDictionary<string, TensorRange> ActivationRanges { get; init; } = new Dictionary<string, TensorRange>(StringComparer.Ordinal);

    /// <summary>
    /// <see cref="ActivationMode.Dynamic"/>: every MatMul/Gemm with a constant weight becomes DynamicQuantizeMatMul (int8
    /// weights, its input quantized at run time, no calibrated range). Other layers (Conv) stay static.
    /// </summary>
    public ActivationMode Activations { get; init; } = ActivationMode.Static;

    /// <summary>Layers (node names) quantized dynamically while <see cref="Activations"/> is static: the yaml's list and fallback's choices.</summary>
    public IReadOnlySet<string> DynamicNodeNames { get; init; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>Bits per weight for round-to-nearest: 8 (per-channel int8) or 4 (blocked int4, MatMul only, opset 21).</summary>
    public int WeightBits { get; init; } = 8;

    /// <summary>
    /// One scale per output channel for 8-bit weights (weights.granularity: per-channel), or one per tensor (per-tensor).
    /// Only narrows the device: a profile without per-channel scales gets per-tensor either way.
    /// </summary>
    public bool PerChannelWeights { get; init; } = true;

    /// <summary>Block size along K for 4-bit weights; a power of two of at least 16 (MatMulNBits' kernels need it).</summary>
    public int BlockSize { get; init; } = 32;

    /// <summary>How 4-bit MatMul weights are written: a MatMulNBits node, or an opset-21 blocked DequantizeLinear.</summary>
    public FourBitFormat FourBitFormat { get; init; } = FourBitFormat.MatMulNBits;

    /// <summary>4-bit blocks get a zero point each (asymmetric, uint4 codes) instead of a symmetric int4 grid.</summary>
    public bool FourBitZeroPoints { get; init; }

    /// <summary>
    /// MatMulNBits' <c>accuracy_level</c> attribute (0 unset, 1 fp32, 2 fp16, 3 bf16, 4 int8 activations): it changes the
    /// numbers ORT computes, so it is written into the node the gate runs.
    /// </summary>
    public int AccuracyLevel { get; init; } = 4;

    /// <summary>The model file being encoded, named in the encoder's errors; null when the model did not come from a file.</summary>
    public string? ModelPath { get; init; }

    /// <summary>The op families this run quantizes with (built per run; the built-in ones by default).</summary>
    internal OpQuantizerRegistry Operators { get; init; } = OpQuantizerRegistry.CreateBuiltIn();
}
