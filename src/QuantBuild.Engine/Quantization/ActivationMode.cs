namespace QuantBuild.Engine.Quantization;

/// <summary>How a linear layer's input activations are quantized (a target's <c>activations</c>).</summary>
public enum ActivationMode
{
    /// <summary>A range calibrated ahead of time, written as QuantizeLinear/DequantizeLinear: QLinearMatMul, QGemm, QLinearConv.</summary>
    Static,

    /// <summary>
    /// Int8 weights, the input quantized by the kernel on every call from its own min/max (DynamicQuantizeMatMul,
    /// DynamicQuantizeLSTM): no calibrated range, float in and out. MatMul and Gemm with a constant weight only.
    /// </summary>
    Dynamic,
}
