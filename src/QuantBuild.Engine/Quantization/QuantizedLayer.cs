namespace QuantBuild.Engine.Quantization;

/// <summary>A node the encoder quantized, with the tensors that let a report compare its output with fp32.</summary>
/// <param name="NodeName">The node's display name.</param>
/// <param name="OpType">The node's op type.</param>
/// <param name="Fp32Tensor">The node's first output in the fp32 model.</param>
/// <param name="QuantizedTensor">
/// The tensor in the quantized model holding the same value as the integer kernel computes it (the dequantized
/// output when the output is quantized, else the node's own output).
/// </param>
/// <param name="Weight">The constant weight the layer's integer kernel reads, or null for an op without one.</param>
/// <param name="WeightAxis">The weight's output-channel axis (meaningless without a weight).</param>
/// <param name="Dynamic">True when the kernel quantizes the layer's input at run time (DynamicQuantizeMatMul/LSTM).</param>
/// <param name="StoredOnly">True when only the file holds int8 weights and ONNX Runtime computes in float (GRU, RNN): no speed-up to expect.</param>
public sealed record QuantizedLayer(string NodeName, string OpType, string Fp32Tensor, string QuantizedTensor, string? Weight = null, int WeightAxis = 0,
    bool Dynamic = false, bool StoredOnly = false);
