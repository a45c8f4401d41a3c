namespace QuantBuild.Engine.Inspection;

/// <summary>Constant tensors of one element type: how many tensors, elements and bytes.</summary>
/// <param name="ElementType">ONNX spelling of the element type.</param>
/// <param name="Tensors">Number of constant tensors of that type.</param>
/// <param name="Elements">Total element count.</param>
/// <param name="Bytes">Total bytes of element data.</param>
public sealed record ParameterSummary(string ElementType, int Tensors, long Elements, long Bytes);
