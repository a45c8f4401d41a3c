using QuantBuild.Abstractions.Ir;

namespace QuantBuild.Engine.Quantization;

/// <summary>The output of <see cref="QdqEncoder.Encode"/>: the QDQ model and what happened to every node.</summary>
public sealed class EncodeResult
{
    internal EncodeResult(OnnxModel model, IReadOnlyList<QuantizedLayer> quantized, IReadOnlyList<UnquantizedNode> unquantized)
    {
        Model = model;
        QuantizedLayers = quantized;
        UnquantizedNodes = unquantized;
    }

    /// <summary>The quantized model: a new object; the input model is never changed.</summary>
    public OnnxModel Model { get; }

    /// <summary>Every quantized node, in graph order.</summary>
    public IReadOnlyList<QuantizedLayer> QuantizedLayers { get; }

    /// <summary>Every node left in fp32, in graph order (subgraph nodes after their owner), with the reason.</summary>
    public IReadOnlyList<UnquantizedNode> UnquantizedNodes { get; }
}
