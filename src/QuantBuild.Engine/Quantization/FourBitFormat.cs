namespace QuantBuild.Engine.Quantization;

/// <summary>How 4-bit weight-only MatMul weights are written (yaml: <c>weights.format</c>).</summary>
public enum FourBitFormat
{
    /// <summary>
    /// <c>matmulnbits</c>: the MatMul becomes com.microsoft MatMulNBits with its packed [N, blocks, block/2] weight, the
    /// form ONNX Runtime's own 4-bit tools write and its kernels prepack at load.
    /// </summary>
    MatMulNBits,

    /// <summary>
    /// <c>qdq-blocked</c>: standard ONNX, an opset-21 int4/uint4 DequantizeLinear with <c>block_size</c> feeding the
    /// MatMul; runtimes other than ONNX Runtime read it, and ORT's own fusion may turn it into MatMulNBits.
    /// </summary>
    BlockedDequantize,
}
