using QuantBuild.Abstractions.Ir;

namespace QuantBuild.Engine.Quantization;

/// <summary>The output of <see cref="QdqEncoder.Encode"/>: the QDQ model and what happened to every node.</summary>
public sealed class EncodeResult
{
    internal EncodeResult(OnnxModel model, IReadOnlyList<QuantizedLayer> quantized, IReadOnlyList<UnquantizedNode> unquantized,
        IReadOnlyList<UnusedWeightEncoding>? unusedEncodings = null)
    {
        Model = model;
        QuantizedLayers = quantized;
        UnquantizedNodes = unquantized;
        UnusedWeightEncodings = unusedEncodings ?? [];
    }

    /// <summary>The quantized model: a new object; the input model is never changed.</summary>
    public OnnxModel Model { get; }

    /// <summary>Every quantized node, in graph order.</summary>
    public IReadOnlyList<QuantizedLayer> QuantizedLayers { get; }

    /// <summary>Every node left in fp32, in graph order (subgraph nodes after their owner), with the reason.</summary>
    public IReadOnlyList<UnquantizedNode> UnquantizedNodes { get; }

    /// <summary>
    /// Recipe passes' weight encodings (<see cref="EncodeOptions.WeightOverrides"/>) that nothing in the model uses, because
    /// every layer reading the weight stays fp32 (excluded, kept in float, or not quantizable), in weight-name order.
    /// </summary>
    public IReadOnlyList<UnusedWeightEncoding> UnusedWeightEncodings { get; }
}

/// <summary>A pass's encoding of <paramref name="Weight"/> left unused: its layer <paramref name="NodeName"/> stays fp32 for <paramref name="Reason"/>.</summary>
public sealed record UnusedWeightEncoding(string Weight, string Origin, string NodeName, string Reason);
