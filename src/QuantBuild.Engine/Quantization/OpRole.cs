namespace QuantBuild.Engine.Quantization;

/// <summary>How the encoder treats one kind of op.</summary>
internal enum OpRole
{
    /// <summary>No QDQ rule: the op stays fp32.</summary>
    None,

    /// <summary>Conv, Gemm, MatMul: integer weights, per-channel scales, int32 bias, its own output range.</summary>
    Linear,

    /// <summary>An op whose output gets its own calibrated range (Relu, Add, Concat, AveragePool...).</summary>
    Requantizing,

    /// <summary>
    /// An op that only moves or selects values (Reshape, Transpose, MaxPool...): its output reuses the input's
    /// scale and zero point, because ORT drops the surrounding Q/DQ pair only when the two match.
    /// </summary>
    ScaleInheriting,

    /// <summary>
    /// Weights quantized ahead of time, activations by the kernel at run time (DynamicQuantizeLSTM): no calibrated
    /// range is needed, so it also applies where calibration cannot look.
    /// </summary>
    Dynamic,

    /// <summary>
    /// Weights stored int8 in the file and expanded to fp32 when ONNX Runtime loads the model (GRU, RNN: no integer
    /// kernel); activations stay float, so no calibrated range is needed.
    /// </summary>
    WeightOnly,
}
