namespace QuantBuild.Engine.Quantization;

/// <summary>A node the encoder quantized, with the tensors that let a report compare its output with fp32.</summary>
/// <param name="NodeName">The node's display name.</param>
/// <param name="OpType">The node's op type.</param>
/// <param name="Fp32Tensor">The node's first output in the fp32 model.</param>
/// <param name="QuantizedTensor">
/// The tensor in the quantized model holding the same value as the integer kernel computes it (the dequantized
/// output when the output is quantized, else the node's own output).
/// </param>
public sealed record QuantizedLayer(string NodeName, string OpType, string Fp32Tensor, string QuantizedTensor);
