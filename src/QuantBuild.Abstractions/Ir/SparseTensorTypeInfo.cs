namespace QuantBuild.Abstractions.Ir;

/// <summary>A sparse tensor type: element type and, if known, dense shape.</summary>
public sealed class SparseTensorTypeInfo : TensorTypeInfo
{
}
