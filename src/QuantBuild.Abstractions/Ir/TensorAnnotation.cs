namespace QuantBuild.Abstractions.Ir;

/// <summary>Names of the tensors holding a value's quantization parameters (ONNX TensorAnnotation).</summary>
public sealed class TensorAnnotation
{
    /// <summary>The annotated value.</summary>
    public string? TensorName { get; set; }

    /// <summary>Keys such as <c>SCALE_TENSOR</c>, <c>ZERO_POINT_TENSOR</c> mapped to tensor names.</summary>
    public IrList<MetadataEntry> QuantParameterTensorNames { get; } = new();
}
