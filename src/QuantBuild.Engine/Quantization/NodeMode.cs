namespace QuantBuild.Engine.Quantization;

/// <summary>What the encoder does with one node.</summary>
internal enum NodeMode
{
    /// <summary>Left in fp32 (with a reason).</summary>
    Fp32,

    /// <summary>Integer QDQ: int8 weights, quantized activations in and out.</summary>
    Integer,

    /// <summary>4-bit blocked weights, fp32 activations: a MatMulNBits node, or a blocked DequantizeLinear before the MatMul.</summary>
    WeightOnly4,

    /// <summary>Int8 weights in the file, expanded to fp32 by a Cast and a Mul that ONNX Runtime folds at load (GRU, RNN); float compute.</summary>
    StoredInt8,

    /// <summary>Int8 weights, activations quantized at run time by the kernel (DynamicQuantizeLSTM); float in and out.</summary>
    DynamicInteger,

    /// <summary>An Add whose constant vector became the bias of the DynamicQuantizeMatMul before it (<see cref="DynamicBiasFold"/>): not written.</summary>
    FoldedIntoProducer,

    /// <summary>A Constant node: data, not a layer; neither quantized nor reported.</summary>
    Constant,
}
